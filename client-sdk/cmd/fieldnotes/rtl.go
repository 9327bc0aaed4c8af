package main

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Right-to-left text (Arabic, Urdu) in a terminal.
//
// Terminals differ: some run the Unicode bidi algorithm on each line (VTE, mlterm, Konsole),
// many don't, and a TUI that pads or truncates by byte or rune count mangles the rest. We
// keep every string in logical order (never reverse it ourselves — a bidi-aware terminal
// would then reverse it again) and do two things per RTL line:
//
//   - wrap it in RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE (U+2067 … U+2069), so a
//     bidi-aware terminal, or text copied out of it, lays the line out right to left and
//     numbers or Latin words inside it (a GP's name, "NHS 111") don't jump to the wrong end;
//     the marks have zero display width, so they cost nothing where they are ignored;
//   - right-align it within the terminal width, computed with the display width of the
//     text (lipgloss.Width), which is where an Arabic or Urdu reader's eye starts.
//
// Lines are word-wrapped before aligning so that a long statement reads as a paragraph.

const (
	rli = "\u2067"
	pdi = "\u2069"
)

// render lays out text (which may contain newlines) for a language: LTR text is wrapped,
// RTL text is wrapped, isolated and right-aligned.
func render(text string, rtl bool, width int) string {
	if width <= 0 {
		width = 80
	}
	var out []string
	for _, para := range strings.Split(text, "\n") {
		for _, line := range wrap(para, width) {
			if rtl && line != "" {
				pad := width - lipgloss.Width(line)
				if pad < 0 {
					pad = 0
				}
				line = strings.Repeat(" ", pad) + rli + line + pdi
			}
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// wrap breaks a paragraph into lines of at most width display cells, at spaces.
func wrap(para string, width int) []string {
	words := strings.Fields(para)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	cur := ""
	for _, w := range words {
		switch {
		case cur == "":
			cur = w
		case lipgloss.Width(cur)+1+lipgloss.Width(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	return append(lines, cur)
}
