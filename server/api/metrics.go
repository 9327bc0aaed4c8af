package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus metrics, on a registry of their own (no global
// state, so tests can make as many servers as they like).
type Metrics struct {
	Registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ops       *prometheus.CounterVec
	batchSize prometheus.Histogram
}

// NewMetrics registers the metrics on a fresh registry, with Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldnotes_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fieldnotes_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldnotes_sync_ops_total",
			Help: "Pushed ops by outcome: accepted, duplicate or rejected.",
		}, []string{"outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fieldnotes_sync_push_batch_ops",
			Help:    "Ops per push request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.ops, m.batchSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *Metrics) observePush(n, accepted, duplicates, rejected int) {
	m.batchSize.Observe(float64(n))
	m.ops.WithLabelValues("accepted").Add(float64(accepted))
	m.ops.WithLabelValues("duplicate").Add(float64(duplicates))
	m.ops.WithLabelValues("rejected").Add(float64(rejected))
}
