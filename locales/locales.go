// Package locales holds Fieldnotes' words in every language it speaks: one go-i18n message
// file per language (en.toml is the source; cy.toml, pl.toml … are translations), embedded
// in the binary, plus the built-in prompt set, consent statement and equality-monitoring
// questions whose texts live in those files.
//
// Server and device code ask for text by message ID and get English back, flagged, when a
// translation is missing; nothing here panics on a request path. Error messages use the
// stable error code as ID: "error.<code>".
//
// This package imports only the standard library, go-i18n, golang.org/x/text and
// BurntSushi/toml — never another Fieldnotes package, so that schema, server and client-sdk
// can all use it.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Files holds the message files, named <BCP 47 tag>.toml: the core messages at the top
// level, and one folder per screen area (console/, fieldapp/, annual/ …) with a file per
// language, so that an area's words live beside each other. A language's messages are the
// union of its files; an id may appear in only one of them.
//
//go:embed *.toml */*.toml
var Files embed.FS

// Paths lists every message file in Files, sorted: "en.toml", "console/en.toml", …
func Paths() []string {
	top, _ := fs.Glob(Files, "*.toml")
	sub, _ := fs.Glob(Files, "*/*.toml")
	out := append(top, sub...)
	sort.Strings(out)
	return out
}

// Supported lists the languages Fieldnotes offers, English (the source) first. A language
// may be supported before its file exists; until then its messages fall back to English.
var Supported = []language.Tag{
	language.English,
	language.Make("cy"), // Welsh
	language.Make("pl"), // Polish
	language.Make("ro"), // Romanian
	language.Make("pa"), // Punjabi (Gurmukhi)
	language.Make("ur"), // Urdu
	language.Make("bn"), // Bengali
	language.Make("gu"), // Gujarati
	language.Make("ar"), // Arabic
	language.Make("so"), // Somali
	language.Make("pt"), // Portuguese
}

// supported is a private copy of Supported, so a caller changing the exported slice cannot
// make Match disagree with the matcher built from it.
var supported = append([]language.Tag(nil), Supported...)

var matcher = language.NewMatcher(supported)

// autonyms are each language's name in itself, used by Name when a language has no file yet.
var autonyms = map[string]string{
	"en": "English", "cy": "Cymraeg", "pl": "Polski", "ro": "Română", "pa": "ਪੰਜਾਬੀ",
	"ur": "اردو", "bn": "বাংলা", "gu": "ગુજરાતી", "ar": "العربية", "so": "Soomaali",
	"pt": "Português",
}

var rtl = map[string]bool{"ar": true, "ur": true}

// catalog is everything loaded from Files, built once.
type catalog struct {
	bundle   *i18n.Bundle
	messages map[string]map[string]*i18n.Message // file tag ("en", "cy") → id → message
	err      error                               // first problem met while loading
}

var (
	loadOnce sync.Once
	loaded   *catalog
)

func load() *catalog {
	loadOnce.Do(func() {
		c := &catalog{
			bundle:   i18n.NewBundle(language.English),
			messages: map[string]map[string]*i18n.Message{},
		}
		c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
		for _, name := range Paths() {
			mf, err := c.bundle.LoadMessageFileFS(Files, name)
			if err != nil {
				if c.err == nil {
					c.err = err
				}
				continue
			}
			tag := strings.TrimSuffix(path.Base(name), ".toml")
			ids := c.messages[tag]
			if ids == nil {
				ids = make(map[string]*i18n.Message, len(mf.Messages))
				c.messages[tag] = ids
			}
			for _, m := range mf.Messages {
				if _, dup := ids[m.ID]; dup && c.err == nil {
					c.err = fmt.Errorf("%s: message %q is already in another %s file", name, m.ID, tag)
				}
				ids[m.ID] = m
			}
		}
		loaded = c
	})
	return loaded
}

// Bundle returns the go-i18n bundle holding every embedded message file. It is built once.
func Bundle() *i18n.Bundle { return load().bundle }

// LoadError reports the first message file that failed to parse, if any (its messages are
// then missing and fall back to English). Tests assert it is nil; a server may log it.
func LoadError() error { return load().err }

// match parses langs (Accept-Language values or BCP 47 tags) and returns the best supported
// language. unsupported is true when a real language was asked for but none of ours fits
// it; empty or unreadable input means no preference and gives English, not unsupported.
func match(langs ...string) (tag language.Tag, unsupported bool) {
	var want []language.Tag
	for _, l := range langs {
		tags, _, err := language.ParseAcceptLanguage(l)
		if err != nil {
			continue
		}
		for _, t := range tags {
			if !t.IsRoot() {
				want = append(want, t)
			}
		}
	}
	if len(want) == 0 {
		return language.English, false
	}
	_, i, conf := matcher.Match(want...)
	if conf == language.No {
		return language.English, true
	}
	return supported[i], false
}

// Match returns the supported language that best fits an Accept-Language header or a list
// of BCP 47 tags: "cy-GB" → cy, "pa-Guru-IN" → pa. Anything unsupported or unreadable gives
// English.
func Match(acceptLanguage ...string) language.Tag {
	t, _ := match(acceptLanguage...)
	return t
}

// Localize renders message id in lang (a tag or an Accept-Language value) with data as its
// template data. fellBack is true when the text is not in the language asked for: the
// message (or the whole language) has no translation yet and English was used, or the id
// is unknown everywhere and the id itself is returned. It never panics.
func Localize(lang string, id string, data map[string]any) (text string, fellBack bool) {
	return localize(lang, id, nil, data)
}

// LocalizePlural is Localize for a message with plural forms, chosen by count under the
// language's CLDR rules. count is also given to the template as .PluralCount and .Count
// unless data already has those keys.
func LocalizePlural(lang, id string, count int, data map[string]any) (text string, fellBack bool) {
	d := make(map[string]any, len(data)+2)
	for k, v := range data {
		d[k] = v
	}
	for _, k := range []string{"PluralCount", "Count"} {
		if _, ok := d[k]; !ok {
			d[k] = count
		}
	}
	return localize(lang, id, &count, d)
}

func localize(lang, id string, count *int, data map[string]any) (text string, fellBack bool) {
	defer func() {
		if recover() != nil {
			text, fellBack = id, true
		}
	}()
	want, unsupported := match(lang)
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if data != nil {
		cfg.TemplateData = data
	}
	if count != nil {
		cfg.PluralCount = *count
	}
	b := Bundle()
	text, got, err := i18n.NewLocalizer(b, want.String()).LocalizeWithTag(cfg)
	if text == "" && err != nil && want != language.English {
		// A broken translation must not hide the English text.
		text, got, err = i18n.NewLocalizer(b, language.English.String()).LocalizeWithTag(cfg)
	}
	if text == "" && err != nil {
		return id, true
	}
	return text, unsupported || base(got) != base(want)
}

func base(t language.Tag) string {
	b, _ := t.Base()
	return b.String()
}

// IsRTL reports whether the best supported language for lang is written right to left.
func IsRTL(lang string) bool { return rtl[base(Match(lang))] }

// Direction is "rtl" or "ltr" for the best supported language for lang, for HTML dir=.
func Direction(lang string) string {
	if IsRTL(lang) {
		return "rtl"
	}
	return "ltr"
}

// Name is the best supported language for lang, named in itself ("Cymraeg", "اردو"): its
// message language.name, or a built-in name while the language has no file yet.
func Name(lang string) string {
	t := Match(lang)
	if text, fellBack := Localize(t.String(), "language.name", nil); !fellBack {
		return text
	}
	if n, ok := autonyms[base(t)]; ok {
		return n
	}
	return t.String()
}

// Coverage gives, for each supported language with a file, the share of English message
// IDs it translates (1.0 for English). Served by GET /v1/locales.
func Coverage() map[string]float64 {
	c := load()
	en := c.messages["en"]
	out := map[string]float64{}
	for _, t := range supported {
		msgs, ok := c.messages[t.String()]
		if !ok {
			continue
		}
		if len(en) == 0 {
			out[t.String()] = 0
			continue
		}
		n := 0
		for id := range en {
			if m := msgs[id]; m != nil && m.Other != "" {
				n++
			}
		}
		out[t.String()] = float64(n) / float64(len(en))
	}
	return out
}

// MessageIDs lists, sorted, the message IDs in the file for lang ("en", "cy" …); nil if
// there is no such file. lang is used as written, not matched.
func MessageIDs(lang string) []string {
	msgs := load().messages[lang]
	if msgs == nil {
		return nil
	}
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Has reports whether the file for lang ("en", "cy" …) has message id. Other packages use
// it in tests, e.g. that every error code they return has an "error.<code>" message in "en".
func Has(lang, id string) bool {
	_, ok := load().messages[lang][id]
	return ok
}

// Languages lists the file tags present in Files, sorted, "en" among them.
func Languages() []string {
	c := load()
	out := make([]string, 0, len(c.messages))
	for t := range c.messages {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
