package sdk

import (
	"context"
	"encoding/json"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Prompt is one question of a prompt set.
type Prompt struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"` // text | single_choice | multi_choice | scale | yes_no
	Choices []string `json:"choices,omitempty"`
	// Texts of a prompt_set record: locale → text, choice → locale → text. Built-in sets
	// leave them empty; their words come from locales.
	Text       map[string]string            `json:"text,omitempty"`
	ChoiceText map[string]map[string]string `json:"choice_text,omitempty"`
}

// PromptSet is an engagement's questionnaire.
type PromptSet struct {
	ID      string   `json:"id"`
	Version int      `json:"version"`
	Builtin bool     `json:"builtin"`
	Prompts []Prompt `json:"prompts"`
}

// Prompt returns the prompt with this id.
func (s PromptSet) Prompt(id string) (Prompt, bool) {
	for _, p := range s.Prompts {
		if p.ID == id {
			return p, true
		}
	}
	return Prompt{}, false
}

// Text is a prompt's question in lang. fellBack is true when it is not in that language.
func (s PromptSet) Text(promptID, lang string) (text string, fellBack bool) {
	if s.Builtin {
		return locales.Localize(lang, locales.PromptMessageID(s.ID, promptID), nil)
	}
	p, _ := s.Prompt(promptID)
	return pick(p.Text, lang, promptID)
}

// ChoiceText is the label of one choice in lang.
func (s PromptSet) ChoiceText(promptID, choiceID, lang string) (text string, fellBack bool) {
	if s.Builtin {
		return locales.Localize(lang, locales.ChoiceMessageID(s.ID, promptID, choiceID), nil)
	}
	p, _ := s.Prompt(promptID)
	return pick(p.ChoiceText[choiceID], lang, choiceID)
}

// pick chooses the best text for lang from a locale map: the matched language, then
// English, then the id itself.
func pick(m map[string]string, lang, id string) (string, bool) {
	if t, ok := m[lang]; ok && t != "" {
		return t, false
	}
	want := locales.Match(lang).String()
	for l, t := range m {
		if locales.Match(l).String() == want && t != "" {
			return t, false
		}
	}
	if t, ok := m["en"]; ok && t != "" {
		return t, true
	}
	return id, true
}

// Prompts resolves an engagement's prompt set: a built-in set (locales.BuiltinPromptSet)
// or a prompt_set record on this device.
func (d *Device) Prompts(ctx context.Context, engagement string) (PromptSet, error) {
	e, err := d.Engagement(ctx, engagement)
	if err != nil {
		return PromptSet{}, err
	}
	return d.PromptSet(ctx, e.PromptSet)
}

// PromptSet resolves a prompt set by id.
func (d *Device) PromptSet(ctx context.Context, id string) (PromptSet, error) {
	if id == "" {
		id = locales.CommunityConversation
	}
	if b, ok := locales.BuiltinPromptSet(id); ok {
		ps := PromptSet{ID: b.ID, Version: b.Version, Builtin: true}
		for _, p := range b.Prompts {
			ps.Prompts = append(ps.Prompts, Prompt{ID: p.ID, Kind: p.Kind, Choices: p.Choices})
		}
		return ps, nil
	}
	var r syncengine.Record
	err := d.use(func(s *syncengine.Store) error {
		var err error
		r, err = d.getLive(ctx, s, schema.PromptSet, id)
		return err
	})
	if err != nil {
		return PromptSet{}, err
	}
	f := fields(r.Fields)
	ps := PromptSet{ID: id, Version: int(f.num("version"))}
	var raw []struct {
		ID         string                       `json:"id"`
		Kind       string                       `json:"kind"`
		Choices    []struct{ ID string }        `json:"choices"`
		Text       map[string]string            `json:"text"`
		ChoiceText map[string]map[string]string `json:"choice_text"`
	}
	if err := json.Unmarshal(f["prompts"], &raw); err != nil {
		return PromptSet{}, &Error{Code: CodeInvalidField, Field: "prompts", Err: err}
	}
	for _, p := range raw {
		q := Prompt{ID: p.ID, Kind: p.Kind, Text: p.Text, ChoiceText: p.ChoiceText}
		for _, c := range p.Choices {
			q.Choices = append(q.Choices, c.ID)
		}
		ps.Prompts = append(ps.Prompts, q)
	}
	return ps, nil
}
