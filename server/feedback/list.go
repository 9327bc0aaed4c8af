package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

func str(r syncengine.Record, field string, dst any) {
	if raw, ok := r.Fields[field]; ok {
		json.Unmarshal(raw, dst)
	}
}

func fieldString(r syncengine.Record, field string) string {
	var s string
	str(r, field, &s)
	return s
}

// Item is one queued (or sent, or failed) feedback message, as listed for a mail merge.
// Contact details are filled only while a consent of the participant that is not
// withdrawn still covers contact_for_feedback.
type Item struct {
	ID           string `json:"id"`
	Decision     string `json:"decision"`
	Participant  string `json:"participant"`
	Locale       string `json:"locale"`
	Channel      string `json:"channel"`
	Status       string `json:"status"`
	Subject      string `json:"subject,omitempty"`
	Message      string `json:"message"`
	Fallback     bool   `json:"fallback"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
	ContactPhone string `json:"contact_phone"`
	QueuedAt     int64  `json:"queued_at,omitempty"`
}

// List lists feedback in the teams (nil: all) with the given status ("" for any), by
// id. A status that is not queued, sent or failed is an *Error invalid_enum.
func (s *Service) List(ctx context.Context, teams []string, status string) ([]Item, error) {
	if status != "" && !slices.Contains(schema.FeedbackStatuses, status) {
		e := fail(schema.CodeInvalidEnum, "status", "status must be queued, sent or failed")
		e.Details["allowed"] = "queued, sent, failed"
		return nil, e
	}
	var items []Item
	err := s.Replica.Scan(ctx, schema.Feedback, teams, func(r syncengine.Record) error {
		it := Item{ID: r.ID}
		str(r, "decision", &it.Decision)
		str(r, "participant", &it.Participant)
		str(r, "locale", &it.Locale)
		str(r, "channel", &it.Channel)
		str(r, "status", &it.Status)
		str(r, "subject", &it.Subject)
		str(r, "message", &it.Message)
		str(r, "fallback", &it.Fallback)
		var at float64
		str(r, "queued_at", &at)
		it.QueuedAt = int64(at)
		if status == "" || it.Status == status {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	contact := map[string]bool{}
	err = s.Index.Read(ctx, func(v *reports.View) error {
		for _, it := range items {
			contact[it.Participant] = v.ParticipantCovers(it.Participant, reports.ContactForFeedback)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range items {
		if !contact[items[i].Participant] {
			continue
		}
		p, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Participant, Record: items[i].Participant})
		if errors.Is(err, syncengine.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		items[i].ContactName = fieldString(p, "contact_name")
		items[i].ContactEmail = fieldString(p, "contact_email")
		items[i].ContactPhone = fieldString(p, "contact_phone")
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	if items == nil {
		items = []Item{}
	}
	return items, nil
}

// MailMergeHeader is the CSV header of the feedback list.
var MailMergeHeader = []string{"feedback_id", "participant_id", "contact_name", "contact_email", "contact_phone", "locale", "channel", "subject", "message"}

// MailMergeRow is an item as a CSV row in MailMergeHeader's order.
func (it Item) MailMergeRow() []string {
	return []string{it.ID, it.Participant, it.ContactName, it.ContactEmail, it.ContactPhone, it.Locale, it.Channel, it.Subject, it.Message}
}

// SetStatus records that a message was sent or failed (PATCH /v1/feedback/{id}).
func (s *Service) SetStatus(ctx context.Context, who Caller, id, status string) (Item, error) {
	if status != "sent" && status != "failed" {
		e := fail(schema.CodeInvalidEnum, "status", "status must be sent or failed")
		e.Details["allowed"] = "sent, failed"
		return Item{}, e
	}
	if !schema.ValidRecordID(id) {
		return Item{}, fail(CodeNotFound, "id", "no such feedback")
	}
	r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Feedback, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && (r.Erased || r.Deleted)) || (err == nil && !who.canSee(r.Team)) {
		return Item{}, fail(CodeNotFound, "id", "no such feedback")
	}
	if err != nil {
		return Item{}, err
	}
	if _, _, err := s.Replica.WriteAs(ctx, who.Node, []syncengine.Change{
		{Collection: schema.Feedback, Record: id, Kind: schema.KindSet, Field: "status", Value: status},
		{Collection: schema.Feedback, Record: id, Kind: schema.KindSet, Field: status + "_at", Value: s.now()},
	}, syncengine.ApplyOptions{Hub: true, Team: r.Team}); err != nil {
		return Item{}, err
	}
	items, err := s.List(ctx, []string{r.Team}, "")
	if err != nil {
		return Item{}, err
	}
	for _, it := range items {
		if it.ID == id {
			return it, nil
		}
	}
	return Item{}, fail(CodeNotFound, "id", "no such feedback")
}
