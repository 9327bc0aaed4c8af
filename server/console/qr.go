package console

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// enrolmentURI is what a tablet's camera reads: the server to enrol with and the code.
func enrolmentURI(server, code string) string {
	return "fieldnotes:enrol?" + url.Values{"server": {server}, "code": {code}}.Encode()
}

// qrSVG draws content as a QR code in inline SVG (one path, no script, no style), with
// the four-module quiet zone scanners need. label is its text alternative.
func qrSVG(content, label string) (template.HTML, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	b := code.Bounds()
	n := b.Dx()
	var path strings.Builder
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < n; x++ {
			if r, g, bl, a := code.At(b.Min.X+x, b.Min.Y+y).RGBA(); a > 0x8000 && r+g+bl < 3*0x8000 {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	size := n + 8
	svg := fmt.Sprintf(`<svg class="fn-qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, template.HTMLEscapeString(label), size, size, path.String())
	return template.HTML(svg), nil
}
