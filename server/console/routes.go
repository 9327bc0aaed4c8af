package console

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes lists every console route. Forms post to the page they came from; every POST
// carries the CSRF token (checkCSRF) and every page but sign-in needs a session.
func (h *Console) routes(e *echo.Echo) {
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") })
	e.GET("/console", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") })
	e.GET("/console/static/*", h.static_, securityHeaders)

	body := middleware.BodyLimit("2M") // a prompt set or baseline CSV; forms are small
	public := []echo.MiddlewareFunc{securityHeaders, noStore, body, h.checkCSRF}
	e.GET("/console/sign-in", h.loginShow, public...)
	e.POST("/console/sign-in", h.loginCheck, public...)
	e.GET("/console/language", h.languageSet, public...)

	g := e.Group("/console", securityHeaders, noStore, body, h.requireSession, h.checkCSRF)
	g.RouteNotFound("/*", h.notFound)
	g.POST("/sign-out", h.logout)
	g.GET("/", h.overviewShow)

	g.GET("/engagements", h.engagementList)
	g.GET("/engagements/new", h.engagementNew)
	g.POST("/engagements", h.engagementCreate)
	g.GET("/engagements/:id", h.engagementEdit)
	g.POST("/engagements/:id", h.engagementUpdate)

	g.GET("/prompt-sets", h.promptSetList)
	g.GET("/prompt-sets/new", h.promptSetNew)
	g.POST("/prompt-sets", h.promptSetCreate)
	g.GET("/prompt-sets/:id", h.promptSetShow)
	g.POST("/prompt-sets/:id", h.promptSetUpdate)

	g.GET("/devices", h.deviceList)
	g.POST("/devices/codes", h.deviceCode)
	g.GET("/devices/:id/revoke", h.deviceRevokeConfirm)
	g.POST("/devices/:id/revoke", h.deviceRevoke)

	g.GET("/conversations", h.conversationList)
	g.POST("/conversations/review", h.conversationBulkReview)
	g.GET("/conversations/:id", h.conversationShow)
	g.POST("/conversations/:id/review", h.conversationReview)
	g.POST("/conversations/:id/themes", h.conversationThemes)
	g.POST("/conversations/:id/public-quote", h.conversationQuote)

	g.GET("/reports", h.reportShow)
	g.POST("/reports/baselines", h.baselineUpload)

	g.GET("/annual", h.annualShow)
	g.GET("/annual/report", h.annualReport)
	g.GET("/annual/report.pdf", h.annualReport)
	g.POST("/annual/texts", h.annualTextSave)

	g.GET("/decisions", h.decisionList)
	g.GET("/decisions/new", h.decisionNew)
	g.POST("/decisions/new", h.decisionNew) // from the conversation table's selection
	g.POST("/decisions", h.decisionCreate)
	g.GET("/decisions/:id", h.decisionShow)
	g.POST("/decisions/:id", h.decisionUpdate)
	g.POST("/decisions/:id/progress", h.decisionProgress)
	g.POST("/decisions/:id/feedback", h.feedbackQueue)

	g.GET("/feedback", h.feedbackList)
	g.GET("/feedback.csv", h.feedbackCSV)
	g.POST("/feedback/:id", h.feedbackStatus)

	g.GET("/withdrawals", h.withdrawalFind)
	g.POST("/withdrawals", h.withdrawalDo)

	g.GET("/exports", h.exportList)
	g.GET("/exports/:collection", h.exportDownload)

	g.GET("/audit", h.auditList)

	g.GET("/users", h.userList, h.requireAdmin)
	g.POST("/users", h.userCreate, h.requireAdmin)
	g.POST("/teams", h.teamCreate, h.requireAdmin)
}

// static_ serves the console's CSS, JS and the vendored NHS.UK frontend.
func (h *Console) static_(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	name := c.Param("*")
	if !fs.ValidPath(name) || name == "." {
		return h.notFound(c)
	}
	if name == nhsCSSPath {
		return c.Blob(http.StatusOK, "text/css; charset=utf-8", h.nhsCSS)
	}
	if _, err := fs.Stat(h.static, name); err != nil {
		return h.notFound(c)
	}
	http.ServeFileFS(c.Response(), c.Request(), h.static, name)
	return nil
}
