// Package tutorial holds no code: its test keeps the tutorial and the
// newcomers' guide (docs/guide.md) true to the programs they quote.
//
// A fenced block preceded by a marker line is checked:
//
//	<!-- quote: examples/spawn/main.go -->        the block appears verbatim in the file
//	<!-- output: examples/spawn/example_test.go --> the block is part of an Example's // Output:
//	<!-- sketch -->                                 not checked (a Go block must say so)
//
// Paths are relative to the module root. Every ```go block needs one of the
// markers, and every relative link and image must name a file that exists.
package tutorial

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// root is the module root, relative to this package.
const root = "../.."

var (
	marker = regexp.MustCompile(`^<!-- (quote|output): (\S+) -->$`)
	link   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// block is a fenced block of a document, with the marker line before it.
type block struct {
	line   int    // of the opening fence
	lang   string // after the fence
	marker string // the non-blank line before the fence
	text   string
}

func blocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []block
		cur  *block
		prev string
		body []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{line: n, lang: strings.TrimPrefix(line, "```"), marker: prev}
			body = nil
		case cur != nil && line == "```":
			cur.text = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur, prev = nil, "" // the next block needs a marker of its own
		case cur != nil:
			body = append(body, line)
		}
		if cur == nil && strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "```") {
			prev = strings.TrimSpace(line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unclosed fence", path, cur.line)
	}
	return out
}

func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append(docs, "../guide.md")
}

// TestQuotes: every marked block is what the named file says.
func TestQuotes(t *testing.T) {
	checked := 0
	for _, doc := range documents(t) {
		for _, b := range blocks(t, doc) {
			m := marker.FindStringSubmatch(b.marker)
			if m == nil {
				if b.lang == "go" && b.marker != "<!-- sketch -->" {
					t.Errorf("%s:%d: a go block with neither <!-- quote: FILE --> nor <!-- sketch --> before it", doc, b.line)
				}
				continue
			}
			src, err := os.ReadFile(filepath.Join(root, m[2]))
			if err != nil {
				t.Errorf("%s:%d: %v", doc, b.line, err)
				continue
			}
			want := b.text
			if m[1] == "output" {
				var lines []string
				for _, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
					lines = append(lines, strings.TrimRight("\t// "+l, " "))
				}
				want = strings.Join(lines, "\n") + "\n"
			}
			if !strings.Contains(string(src), want) {
				t.Errorf("%s:%d: the block is not in %s (%s); update one of them:\n%s", doc, b.line, m[2], m[1], b.text)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no marked block found")
	}
}

// TestLinks: relative links and images name files that exist, and an
// anchor into one of the documents names one of its headings.
func TestLinks(t *testing.T) {
	docs := documents(t)
	anchors := map[string]map[string]bool{} // cleaned path → heading slugs
	for _, doc := range docs {
		anchors[filepath.Clean(doc)] = headings(t, doc)
	}
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target, anchor, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := filepath.Join(filepath.Dir(doc), target)
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: broken link %s", doc, m[1])
				continue
			}
			if slugs, ok := anchors[filepath.Clean(path)]; ok && anchor != "" && !slugs[anchor] {
				t.Errorf("%s: link %s: no such heading", doc, m[1])
			}
		}
	}
}

// headings returns the anchors of doc's headings as GitHub makes them:
// lower case, punctuation dropped, spaces as hyphens.
func headings(t *testing.T, doc string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var slug strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				slug.WriteRune(r)
			}
		}
		slugs[slug.String()] = true
	}
	return slugs
}
