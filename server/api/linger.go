package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Lingering close, as nginx does it (lingering_close, lingering_time, lingering_timeout).
// When the server answers before it has read a request's body — a 413 for a push over the
// limit, a 401 for an expired token — and then closes the connection, a client still
// writing the body gets a broken pipe or a reset, and never reads the answer: most HTTP
// clients write the whole body before they read. So after such an answer is sent, the
// server goes on reading and discarding the body, up to lingerMaxBytes and lingerTime in
// all, giving up when the client sends nothing for lingerIdle; then the connection closes.
const (
	lingerMaxBytes = 64 << 20
	lingerTime     = 30 * time.Second
	lingerIdle     = 5 * time.Second
)

// eofReader notes whether a body has been read to its end.
type eofReader struct {
	r   io.ReadCloser
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

func (e *eofReader) Close() error { return e.r.Close() }

// lingerOnError answers an error at once and then drains the unread rest of the body, so
// that a client which writes its whole body before reading still reads the answer.
func (s *Server) lingerOnError(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
			return next(c)
		}
		body := &eofReader{r: req.Body}
		req.Body = body
		err := next(c)
		res := c.Response()
		if body.eof {
			return err
		}
		if err != nil && !res.Committed {
			res.Header().Set(echo.HeaderConnection, "close") // the rest of the body is not read
			c.Error(err)
			err = nil
		}
		if !res.Committed || res.Status < 400 {
			return err
		}
		res.Flush()
		linger(http.NewResponseController(res), body)
		return err
	}
}

// linger reads and discards the rest of body within the bounds above.
func linger(rc *http.ResponseController, body io.Reader) {
	end := time.Now().Add(lingerTime)
	defer rc.SetReadDeadline(time.Time{})
	buf := make([]byte, 32<<10)
	var read int64
	for read < lingerMaxBytes {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		deadline := now.Add(lingerIdle)
		if end.Before(deadline) {
			deadline = end
		}
		if err := rc.SetReadDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
		n, err := body.Read(buf)
		read += int64(n)
		if err != nil {
			return // the end, the client gone, or silent for lingerIdle
		}
	}
}
