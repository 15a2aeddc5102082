package stampfs

// etagListMatch reports whether an If-Match or If-None-Match value holds
// "*" or an entity tag equal to etag (a strong tag, in quotes). Strong
// comparison (If-Match) counts only an identical strong tag; weak comparison
// (If-None-Match) ignores a W/ prefix. The list is read as RFC 9110 writes
// it (elements separated by commas and optional white space) up to its
// first malformed element, which ends it: that is how http.ServeContent
// reads these headers, so both always decide alike. A list with a malformed
// element before any match holds nothing, so a malformed If-Match fails
// (412) and a malformed If-None-Match does not prevent a 200.
func etagListMatch(list, etag string, weak bool) bool {
	for {
		list = trimOWS(list)
		switch {
		case list == "":
			return false
		case list[0] == ',':
			list = list[1:]
			continue
		case list[0] == '*':
			return true
		}
		tag, rest, ok := cutETag(list)
		if !ok {
			return false
		}
		isWeak := len(tag) > 2 && tag[:2] == "W/"
		switch {
		case !weak && !isWeak && tag == etag:
			return true
		case weak && isWeak && tag[2:] == etag, weak && !isWeak && tag == etag:
			return true
		}
		list = rest
	}
}

// cutETag cuts the entity tag at the start of s: an opaque tag in quotes,
// of the characters RFC 9110 allows (0x21, 0x23-0x7E, 0x80-0xFF), optionally
// after W/.
func cutETag(s string) (tag, rest string, ok bool) {
	start := 0
	if len(s) >= 2 && s[:2] == "W/" {
		start = 2
	}
	if len(s) < start+2 || s[start] != '"' {
		return "", "", false
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c == 0x21, 0x23 <= c && c <= 0x7e, c >= 0x80:
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// trimOWS trims the optional white space of HTTP (spaces and tabs, and the
// line breaks of folded headers) from both ends of s.
func trimOWS(s string) string {
	for s != "" && isOWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
