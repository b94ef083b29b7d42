package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quote returns name as the terminal should show it, in GNU ls's
// "shell-escape" style: a name of only safe characters is printed as it is;
// one holding spaces, quotes or shell metacharacters, but only printable
// characters, is put in single quotes; one holding a control character, a
// non-printable character or bytes that are not UTF-8 is written $'...'
// with backslash escapes. Every quoted form, pasted into bash, zsh or ksh,
// is the name itself, and no name can print as another name or as two
// lines.
func quote(name string) string {
	if name != "" && strings.IndexFunc(name, unsafeRune) < 0 {
		return name
	}
	if utf8.ValidString(name) && strings.IndexFunc(name, nonPrintable) < 0 {
		return "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, name[i])
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\a':
			b.WriteString(`\a`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\v':
			b.WriteString(`\v`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == 0x1b:
			b.WriteString(`\E`)
		case r < 0x80 && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case nonPrintable(r):
			// Each byte, so that no decoder's idea of the character
			// matters.
			for _, c := range []byte(name[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// unsafeRune reports a character that makes a name need quoting: anything
// but letters, digits and -_.,+:@%=/^ (and non-ASCII printable letters).
func unsafeRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case strings.ContainsRune("-_.,+:@%=/^", r):
		return false
	case r >= 0x80 && r != utf8.RuneError && unicode.IsPrint(r):
		return false
	}
	return true
}

// nonPrintable reports a character a terminal would not show as itself.
func nonPrintable(r rune) bool {
	return r == utf8.RuneError || !unicode.IsPrint(r) && r != ' '
}

// visible escapes, as \xHH, every byte of s that is not part of a
// printable character: for messages that embed user input some other
// code formatted (the flag package's errors).
func visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if nonPrintable(r) {
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
