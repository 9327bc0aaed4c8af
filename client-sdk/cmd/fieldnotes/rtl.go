package main

import (
	"strings"

	"github.com/rivo/uniseg"
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
//     text (cells), which is where an Arabic or Urdu reader's eye starts.
//
// Lines are word-wrapped before aligning so that a long statement reads as a paragraph.
//
// Widths are counted as the terminal counts them (cells), not as lipgloss and bubbletea
// do: they count a grapheme cluster as wide as its first rune, so "ਪੰਜਾਬੀ" is 3 to them
// and 5 on screen (each Gurmukhi vowel sign such as ਾ or ੀ takes a cell of its own). A
// line they think fits then wraps in the terminal, the renderer's count of rows is off by
// one and the lines of the previous screen stay behind. Every line is also kept one cell
// short of the width: a line that fills the last column leaves the cursor waiting to
// wrap, and the erase-to-end-of-line the renderer sends after it would eat its last cell.

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
	width = max(width-1, 10)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		for _, line := range wrap(para, width) {
			if rtl && line != "" {
				pad := width - cells(line)
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
		for cells(w) > width { // a word longer than the line: break it
			head := hardWrap(w, width)[0]
			if cur != "" {
				lines = append(lines, cur)
				cur = ""
			}
			lines = append(lines, head)
			w = w[len(head):]
		}
		switch {
		case cur == "":
			cur = w
		case cells(cur)+1+cells(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	return append(lines, cur)
}

// cells is how many terminal cells s takes: Unicode's East Asian width per grapheme
// cluster plus one for each spacing vowel sign in it (uniseg), as terminals draw it.
func cells(s string) int { return uniseg.StringWidth(s) }

// hardWrap cuts s into pieces of at most width cells, between grapheme clusters, keeping
// every space (a text field being typed into).
func hardWrap(s string, width int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		w := cells(g.Str())
		if n+w > width && n > 0 {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		cur.WriteString(g.Str())
		n += w
	}
	return append(out, cur.String())
}
