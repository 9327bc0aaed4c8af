package main

import (
	tea "github.com/charmbracelet/bubbletea"
)

// lineInput is a one-line text field: typed runes append, Backspace deletes. (bubbles'
// textinput pulls in a clipboard module the workspace doesn't carry; a field worker's
// answer box needs no more than this.)
type lineInput struct {
	runes []rune
}

func (l *lineInput) Reset()        { l.runes = l.runes[:0] }
func (l *lineInput) Value() string { return string(l.runes) }

func (l *lineInput) Update(msg tea.Msg) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return
	}
	switch k.Type {
	case tea.KeyRunes:
		l.runes = append(l.runes, k.Runes...)
	case tea.KeySpace:
		l.runes = append(l.runes, ' ')
	case tea.KeyBackspace:
		if len(l.runes) > 0 {
			l.runes = l.runes[:len(l.runes)-1]
		}
	}
}

// View shows the text with a block cursor; RTL text is laid out by render like any line.
func (l *lineInput) View() string { return "> " + string(l.runes) + "█" }
