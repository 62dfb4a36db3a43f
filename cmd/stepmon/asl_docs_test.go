package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// docCommand matches a "stepmon asl" command line in Markdown: in a code
// span, or on a line of a code block, with backslash-continued lines.
var docCommand = regexp.MustCompile("(?m)(?:`|^)(stepmon asl (?:run|validate) (?:[^`\\n\\\\]|\\\\\\n|\\\\[^\\n])*)")

// docExamples returns the "stepmon asl" command lines of a Markdown file.
func docExamples(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range docCommand.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// shellWords splits a command line as a POSIX shell does for the quoting
// used in the docs: single quotes, double quotes (with \" \\ \$ and \`
// escapes), backslash escapes and backslash-newline. It refuses what it
// cannot run as written: expansions and redirections.
func shellWords(line string) ([]string, bool) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '\\' && i+1 < len(line):
			i++
			if line[i] != '\n' {
				w.WriteByte(line[i])
				inWord = true
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, false
			}
			w.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				switch {
				case line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0:
					i++
				case line[i] == '$' || line[i] == '`':
					return nil, false
				}
				w.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, false
			}
			inWord = true
		case strings.IndexByte("$`|&;<>()", c) >= 0:
			return nil, false
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, true
}

// TestASLDocExamples runs the "stepmon asl" examples of README.md and
// docs/asl.md as written, from the repository's root: each must parse as
// a shell command line and run (asl run: exit 0 and a result; asl
// validate: exit 0). They held placeholders ({…}) and named a file that
// does not exist.
func TestASLDocExamples(t *testing.T) {
	examples := map[string][]string{}
	for _, doc := range []string{"../../README.md", "../../docs/asl.md"} {
		ex := docExamples(t, doc)
		if !strings.Contains(strings.Join(ex, "\n"), "stepmon asl run ") {
			t.Fatalf("%s: no stepmon asl run example found", doc)
		}
		examples[doc] = ex
	}
	t.Chdir("../..")
	for doc, ex := range examples {
		for _, line := range ex {
			if strings.HasSuffix(line, " -h") {
				continue // a pointer to the help, not an example
			}
			t.Run(doc[len("../../"):]+": "+line[:min(len(line), 40)], func(t *testing.T) {
				words, ok := shellWords(line)
				if !ok || len(words) < 3 || words[0] != "stepmon" {
					t.Fatalf("%s: example %q is not a command line that runs as written", doc, line)
				}
				res := runCLI(t.Context(), "http://127.0.0.1:1", words[1:]...)
				if res.code != 0 {
					t.Fatalf("%s: %s: exit %d, stderr %q; want 0", doc, line, res.code, res.stderr)
				}
				if words[2] != "run" {
					return
				}
				var r aslResult
				if err := json.Unmarshal([]byte(res.stdout), &r); err != nil || r.Status == "" {
					t.Errorf("%s: %s: output %q (%v), want a result", doc, line, res.stdout, err)
				}
				if res.stderr != "" {
					t.Errorf("%s: %s: stderr %q, want no warning", doc, line, res.stderr)
				}
			})
		}
	}
}
