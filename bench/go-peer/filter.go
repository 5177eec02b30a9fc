package main

// Script-side parsing the test client needs: word splitting as the isopeer console does it,
// expected counts, and line filters (`testfilter <source> <count> <text>`), as docs/testkit.md
// describes them.

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// splitWords splits a command line: whitespace separates words, a double quote starts a quoted
// part up to the next unescaped quote (inside it \" \\ \n \t are escapes), and quoted parts join
// the letters next to them into one word.
func splitWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	escapes := map[byte]byte{'"': '"', '\\': '\\', 'n': '\n', 't': '\t'}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '"':
			quoted = false
		case quoted && ch == '\\' && i+1 < len(line) && escapes[line[i+1]] != 0:
			word.WriteByte(escapes[line[i+1]])
			i++
		case quoted:
			word.WriteByte(ch)
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			inWord = true
			if ch == '"' {
				quoted = true
			} else {
				word.WriteByte(ch)
			}
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// count is an inclusive range of expected matches: N, >=N, <=N, >N, <N or A..B.
type count struct {
	min, max float64
	text     string
}

var (
	countExact = regexp.MustCompile(`^(0|[1-9]\d{0,8})$`)
	countRange = regexp.MustCompile(`^(0|[1-9]\d{0,8})\.\.(0|[1-9]\d{0,8})$`)
	countBound = regexp.MustCompile(`^(>=|<=|>|<)(0|[1-9]\d{0,8})$`)
	durationRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)(ms|s|m)$`)
	regexLit   = regexp.MustCompile(`(?s)^/(.+)/([imsu]*)$`)
)

func parseCount(text string) (count, error) {
	num := func(s string) float64 { n, _ := strconv.Atoi(s); return float64(n) }
	if m := countExact.FindStringSubmatch(text); m != nil {
		return count{num(m[1]), num(m[1]), text}, nil
	}
	if m := countRange.FindStringSubmatch(text); m != nil && num(m[1]) <= num(m[2]) {
		return count{num(m[1]), num(m[2]), text}, nil
	}
	if m := countBound.FindStringSubmatch(text); m != nil {
		n := num(m[2])
		switch m[1] {
		case ">=":
			return count{n, math.Inf(1), text}, nil
		case ">":
			return count{n + 1, math.Inf(1), text}, nil
		case "<=":
			return count{0, n, text}, nil
		default:
			if n > 0 {
				return count{0, n - 1, text}, nil
			}
		}
	}
	return count{}, fmt.Errorf("bad count %q: expected N, >=N, <=N, >N, <N or A..B", text)
}

func (c count) ok(n int) bool     { return float64(n) >= c.min && float64(n) <= c.max }
func (c count) exact() bool       { return c.min == c.max }
func (c count) passed(n int) bool { return float64(n) > c.max }

// lineFilter: lines from `source` (messagesView: every line) that start with `text`, or match it
// when it is written /regex/flags.
type lineFilter struct {
	source, text string
	count        count
	re           *regexp.Regexp
}

func parseFilter(args []string) (*lineFilter, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("usage: testfilter <source> <count> <text>")
	}
	c, err := parseCount(args[1])
	if err != nil {
		return nil, err
	}
	f := &lineFilter{source: args[0], count: c, text: strings.Join(args[2:], " ")}
	if m := regexLit.FindStringSubmatch(f.text); m != nil {
		flags := strings.ReplaceAll(m[2], "u", "") // Go's regexp is always Unicode-aware
		if flags != "" {
			flags = "(?" + flags + ")"
		}
		if f.re, err = regexp.Compile(flags + m[1]); err != nil {
			return nil, fmt.Errorf("bad regular expression %s: %v", f.text, err)
		}
	}
	return f, nil
}

func (f *lineFilter) matches(text, source string) bool {
	if f.source != "messagesView" && f.source != source {
		return false
	}
	if f.re != nil {
		return f.re.MatchString(text)
	}
	return strings.HasPrefix(text, f.text)
}

func (f *lineFilter) key() string { return f.source + " " + f.count.text + " " + f.text }

// parseWait reads `testwait <source> <count> <text> [timeout]`: the last word is a timeout when
// it is a duration and text remains before it.
func parseWait(args []string) (*lineFilter, time.Duration, error) {
	timeout := 10 * time.Second
	if n := len(args); n >= 4 {
		if m := durationRe.FindStringSubmatch(args[n-1]); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			unit := map[string]float64{"ms": 1, "s": 1000, "m": 60000}[m[2]]
			timeout = time.Duration(v*unit) * time.Millisecond
			args = args[:n-1]
		}
	}
	f, err := parseFilter(args)
	return f, timeout, err
}
