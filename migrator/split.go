package migrator

import (
	"strings"
	"unicode"
)

// Statement is one SQL statement of a migration file (or one command of a
// MongoDB JSON file), with the line it starts on.
type Statement struct {
	Line int    `json:"line"`
	SQL  string `json:"sql"`
}

// splitSQL splits a PostgreSQL script into statements at top-level
// semicolons. It understands -- and nested /* */ comments, 'strings'
// (doubled quotes and, for E'...', backslash escapes), "identifiers" and
// $tag$ dollar quoting. Statements that are only comments are dropped;
// comments before a statement are not part of it.
func splitSQL(src string) []Statement {
	var out []Statement
	s := splitter{src: src, line: 1}
	start, startLine := 0, 1
	for s.pos < len(src) {
		if src[s.pos] == ';' {
			out = appendStatement(out, src[start:s.pos+1], startLine)
			s.pos++
			start, startLine = s.pos, s.line
			continue
		}
		s.skipToken()
	}
	return appendStatement(out, src[start:], startLine)
}

// appendStatement adds text unless it holds no SQL; Line is the line of the
// first SQL token (after leading blanks and comments).
func appendStatement(out []Statement, text string, line int) []Statement {
	s := splitter{src: text, line: line}
	for s.pos < len(text) {
		c := text[s.pos]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			s.skipToken()
		case strings.HasPrefix(text[s.pos:], "--") || strings.HasPrefix(text[s.pos:], "/*"):
			s.skipToken()
		case c == ';':
			return out
		default:
			return append(out, Statement{Line: s.line, SQL: strings.TrimSpace(text[s.pos:])})
		}
	}
	return out // comments only
}

type splitter struct {
	src  string
	pos  int
	line int
}

// advance moves to end, counting lines.
func (s *splitter) advance(end int) {
	if end > len(s.src) {
		end = len(s.src)
	}
	s.line += strings.Count(s.src[s.pos:end], "\n")
	s.pos = end
}

// skipToken moves past one character or one comment, string, quoted
// identifier or dollar-quoted body.
func (s *splitter) skipToken() {
	rest := s.src[s.pos:]
	switch {
	case strings.HasPrefix(rest, "--"):
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			s.advance(s.pos + i + 1)
		} else {
			s.advance(len(s.src))
		}
	case strings.HasPrefix(rest, "/*"):
		s.skipBlockComment()
	case rest[0] == '\'':
		s.skipQuoted('\'', s.isEscapeString())
	case rest[0] == '"':
		s.skipQuoted('"', false)
	case rest[0] == '$':
		if tag := dollarTag(rest); tag != "" && !s.prevIsIdentChar() {
			if i := strings.Index(rest[len(tag):], tag); i >= 0 {
				s.advance(s.pos + len(tag) + i + len(tag))
			} else {
				s.advance(len(s.src))
			}
			return
		}
		s.advance(s.pos + 1)
	default:
		s.advance(s.pos + 1)
	}
}

func (s *splitter) skipBlockComment() {
	depth := 0
	i := s.pos
	for i < len(s.src) {
		switch {
		case strings.HasPrefix(s.src[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(s.src[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				s.advance(i)
				return
			}
		default:
			i++
		}
	}
	s.advance(len(s.src))
}

// isEscapeString tells whether the quote at pos opens an E'...' string.
func (s *splitter) isEscapeString() bool {
	if s.pos == 0 || (s.src[s.pos-1] != 'E' && s.src[s.pos-1] != 'e') {
		return false
	}
	return s.pos == 1 || !isIdentChar(rune(s.src[s.pos-2]))
}

func (s *splitter) skipQuoted(q byte, backslash bool) {
	i := s.pos + 1
	for i < len(s.src) {
		c := s.src[i]
		switch {
		case backslash && c == '\\':
			i += 2
		case c == q && i+1 < len(s.src) && s.src[i+1] == q:
			i += 2
		case c == q:
			s.advance(i + 1)
			return
		default:
			i++
		}
	}
	s.advance(len(s.src))
}

func (s *splitter) prevIsIdentChar() bool {
	return s.pos > 0 && isIdentChar(rune(s.src[s.pos-1]))
}

func isIdentChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// dollarTag returns the opening tag ($$ or $name$) at the start of s, or "".
func dollarTag(s string) string {
	for i := 1; i < len(s); i++ {
		c := rune(s[i])
		if c == '$' {
			return s[:i+1]
		}
		if !(c == '_' || unicode.IsLetter(c) || (i > 1 && unicode.IsDigit(c))) {
			return ""
		}
	}
	return ""
}
