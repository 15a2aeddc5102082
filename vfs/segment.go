package vfs

// ValidSegment reports whether s can serve as the extra path segment of
// Prefix, which is also the rule for a stamp: 1 to 64 characters of
// [0-9A-Za-z._-] that do not start with a dot. "v1.2.3" and "e3b0c44298fc"
// are valid; "", ".", "..", ".git", "a/b" and "a\\b" are not.
func ValidSegment(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
