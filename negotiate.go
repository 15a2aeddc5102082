package stampfs

import "strings"

// negotiate picks the representation of e that Accept-Encoding prefers:
// highest q-value wins, q=0 means never, br before gzip before identity at
// equal q. Without the header (or anything acceptable) it is e itself.
func negotiate(accept []string, e *entry) *entry {
	if len(accept) == 0 {
		return e
	}
	qBr, qGz, qID, qAny := -1, -1, -1, -1
	for _, v := range accept {
		for v != "" {
			var tok string
			if i := strings.IndexByte(v, ','); i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				tok, v = v, ""
			}
			coding, params, _ := strings.Cut(tok, ";")
			coding = strings.TrimSpace(coding)
			q := parseQ(params)
			switch {
			case strings.EqualFold(coding, "br"):
				qBr = q
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				qGz = q
			case strings.EqualFold(coding, "identity"):
				qID = q
			case coding == "*":
				qAny = q
			}
		}
	}
	if qBr < 0 {
		qBr = max(qAny, 0)
	}
	if qGz < 0 {
		qGz = max(qAny, 0)
	}
	if e.br == nil {
		qBr = 0
	}
	if e.gz == nil {
		qGz = 0
	}
	switch {
	case qBr > 0 && qBr >= qGz && qBr >= qID:
		return e.br
	case qGz > 0 && qGz >= qID:
		return e.gz
	}
	return e
}

// parseQ returns the q-value in the parameters of one Accept-Encoding
// element in thousandths: 1000 when absent, 0 when malformed.
func parseQ(params string) int {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, val, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" || (val[0] != '0' && val[0] != '1') {
			return 0
		}
		n := int(val[0]-'0') * 1000
		if len(val) > 1 {
			if val[1] != '.' || len(val) > 5 {
				return 0
			}
			scale := 100
			for _, c := range val[2:] {
				if c < '0' || c > '9' {
					return 0
				}
				n += int(c-'0') * scale
				scale /= 10
			}
		}
		if n > 1000 {
			return 0
		}
		return n
	}
	return 1000
}
