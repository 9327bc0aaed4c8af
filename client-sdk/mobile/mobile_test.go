package mobile

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every exported function, method, type and field uses only types gomobile can bind.
func TestBindableSignatures(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	own := map[string]bool{}
	var decls []ast.Decl
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if !ts.Name.IsExported() {
						continue
					}
					if _, isStruct := ts.Type.(*ast.StructType); !isStruct {
						t.Errorf("%s: exported type is not a struct", ts.Name)
					}
					own[ts.Name.Name] = true
				}
			}
		}
		decls = append(decls, af.Decls...)
	}
	basic := map[string]bool{"string": true, "bool": true, "int": true, "int32": true, "int64": true, "float64": true, "error": true}
	var ok func(e ast.Expr, top bool) bool
	ok = func(e ast.Expr, top bool) bool {
		switch x := e.(type) {
		case *ast.Ident:
			return basic[x.Name] || own[x.Name]
		case *ast.StarExpr:
			id, isID := x.X.(*ast.Ident)
			return isID && own[id.Name]
		case *ast.ArrayType:
			id, isID := x.Elt.(*ast.Ident)
			return x.Len == nil && isID && id.Name == "byte"
		}
		return false
	}
	checkFields := func(where string, fl *ast.FieldList) {
		if fl == nil {
			return
		}
		for _, f := range fl.List {
			if !ok(f.Type, true) {
				t.Errorf("%s: %s is not bindable", where, types(fset, f.Type))
			}
		}
	}
	n := 0
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if s, isStar := recv.(*ast.StarExpr); isStar {
					recv = s.X
				}
				if !own[recv.(*ast.Ident).Name] {
					continue
				}
				name = recv.(*ast.Ident).Name + "." + name
			}
			n++
			checkFields(name+" params", d.Type.Params)
			checkFields(name+" results", d.Type.Results)
			if r := d.Type.Results; r != nil && len(r.List) > 2 {
				t.Errorf("%s: more than two results", name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				ts, isType := s.(*ast.TypeSpec)
				if !isType || !ts.Name.IsExported() {
					continue
				}
				st, isStruct := ts.Type.(*ast.StructType)
				if !isStruct {
					continue
				}
				for _, f := range st.Fields.List {
					for _, nm := range f.Names {
						if nm.IsExported() && !ok(f.Type, false) {
							t.Errorf("%s.%s: %s is not bindable", ts.Name, nm, types(fset, f.Type))
						}
					}
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d exported functions checked", n)
	}
}

func types(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	ast.Fprint(&b, fset, e, nil)
	return strings.Fields(b.String())[1]
}

func TestCaptureFlow(t *testing.T) {
	m, err := Open(t.TempDir(), "pa")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Identity(); ErrorCode(err) != "not_enrolled" {
		t.Fatalf("identity before enrol: %v", err)
	}
	if err := m.SetLocalIdentity("0193a4c2-0000-7000-8000-00000000e001", "team-a"); err != nil {
		t.Fatal(err)
	}
	ei := NewEngagementInput()
	ei.VenueType, ei.VenueName = "place_of_worship", "Gurdwara"
	ei.AddLanguage("pa")
	eng, err := m.StartEngagement(ei)
	if err != nil {
		t.Fatal(err)
	}
	st := ConsentStatement("pa")
	ci := NewConsentInput()
	ci.Engagement, ci.StatementID, ci.StatementVersion, ci.StatementLocale, ci.Method = eng, st.ID, st.Version, "pa", "verbal"
	for i := 0; i < ScopeCount(); i++ {
		if Scope(i) != "contact_for_feedback" {
			ci.AddScope(Scope(i))
		}
	}
	c, err := m.RecordConsent(ci)
	if err != nil {
		t.Fatal(err)
	}
	vi := NewConversationInput()
	vi.Consent = c.ID
	vi.AddLocale("pa")
	conv, err := m.StartConversation(vi)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Prompts(eng)
	if err != nil || ps.Count() == 0 || ps.Text(0, "en") == "" {
		t.Fatalf("prompts: %v", err)
	}
	a := NewAnswerInput(ps.PromptID(0))
	a.Multi, a.PromptLocale = true, "pa"
	a.AddChoice(ps.ChoiceID(0, 0))
	if err := m.Answer(conv, a); err != nil {
		t.Fatal(err)
	}
	if err := m.SwitchLanguage(conv, ps.PromptID(1), "pa", "en"); err != nil {
		t.Fatal(err)
	}
	if err := m.SetEquality(c.ID, EqualityField(0), EqualityValue(0, EqualityValueCount(0)-1)); err != nil {
		t.Fatal(err)
	}
	err = m.SetContact(c.ID, "", "", "07700 900000")
	if ErrorCode(err) != "consent_scope_missing" || ErrorScope(err) != "contact_for_feedback" || ErrorMessage(err, "en") == "" {
		t.Fatalf("contact without scope: %v", err)
	}
	js, err := m.ConversationJSON(conv)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Answers          []struct{ Choices []string }
		LanguageSwitches []struct{ To string } `json:"language_switches"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil || len(got.Answers) != 1 || len(got.LanguageSwitches) != 1 {
		t.Fatalf("conversation JSON %s: %v", js, err)
	}
	list, err := m.ConversationsJSON("")
	if err != nil || !strings.HasPrefix(list, "[") {
		t.Fatalf("list %s %v", list, err)
	}
	if err := m.WithdrawConsent(c.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.AddNote(conv, "x"); ErrorCode(err) != "consent_withdrawn" {
		t.Fatalf("after withdrawal: %v", err)
	}
	s, err := m.Status()
	if err != nil || s.Pending == 0 || s.Hash == "" {
		t.Fatalf("status %+v %v", s, err)
	}
	if _, err := m.Sync(); ErrorCode(err) != "not_enrolled" {
		t.Fatalf("sync without server: %v", err)
	}
}

// TestApp starts the field app through the facade, fetches its first page over loopback
// and stops it: the URL it returns is what the WebView shell opens.
func TestApp(t *testing.T) {
	m, err := Open(t.TempDir(), "cy")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.StartApp("0.0.0.0:0", -1); err == nil {
		t.Fatal("the field app listened on a non-loopback address")
	}
	u, err := m.StartApp("", -1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") || m.AppURL() != u {
		t.Fatalf("url %q, AppURL %q", u, m.AppURL())
	}
	if again, _ := m.StartApp("", -1); again != u {
		t.Fatalf("second StartApp gave %q, want %q", again, u)
	}
	res, err := http.Get(u + "enrol")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "<form") {
		t.Fatalf("GET enrol: %d", res.StatusCode)
	}
	if err := m.StopApp(); err != nil {
		t.Fatal(err)
	}
	if m.AppURL() != "" {
		t.Fatal("AppURL after StopApp")
	}
	if _, err := http.Get(u + "enrol"); err == nil {
		t.Fatal("the app still answers after StopApp")
	}
}

// The encrypted store through the bindable API: a wrong key is store_key, the right one
// opens what was recorded, Wipe leaves nothing and Wiped tells the app to drop its key.
func TestOpenEncryptedAndWipe(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, KeySize)
	key[0] = 1
	m, err := OpenEncrypted(dir, "pa", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLocalIdentity("0193a4c2-0000-7000-8000-00000000e002", "team-a"); err != nil {
		t.Fatal(err)
	}
	ei := NewEngagementInput()
	ei.VenueType, ei.VenueName = "library", "Central Library"
	eng, err := m.StartEngagement(ei)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := Open(dir, "pa"); ErrorCode(err) != "store_key" {
		t.Fatalf("open without the key: %v", err)
	}
	wrong := make([]byte, KeySize)
	if _, err := OpenEncrypted(dir, "pa", wrong); ErrorCode(err) != "store_key" {
		t.Fatalf("open with a wrong key: %v", err)
	}
	m, err = OpenEncrypted(dir, "pa", key)
	if err != nil {
		t.Fatal(err)
	}
	if js, err := m.EngagementJSON(eng); err != nil || !strings.Contains(js, "Central Library") {
		t.Fatalf("engagement after reopen: %s %v", js, err)
	}
	if m.Wiped() {
		t.Fatal("wiped before Wipe")
	}
	if err := m.Wipe(); err != nil || !m.Wiped() {
		t.Fatalf("wipe: %v wiped=%v", err, m.Wiped())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Fatalf("left after wipe: %v", left)
	}
}

// The tablet build (gomobile bind -tags fieldnotes_device) carries one SQLite, ncruces's,
// for encrypted and plain stores alike, and the facade works on it.
func TestTabletBuildCarriesOneSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list and go test")
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "fieldnotes_device", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := string(out)
	if strings.Contains(deps, "modernc.org/sqlite\n") || !strings.Contains(deps, "github.com/ncruces/go-sqlite3\n") {
		t.Fatal("the tablet build should have ncruces's SQLite and not modernc's")
	}
	out, err = exec.Command("go", "test", "-count=1", "-tags", "fieldnotes_device", "-run", "^(TestOpenEncryptedAndWipe|TestCaptureFlow|TestApp)$", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("facade tests on the tablet build: %v\n%s", err, out)
	}
}
