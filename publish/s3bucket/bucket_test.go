package s3bucket

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://assets/static", "assets", "static", true},
		{"s3://assets/static/", "assets", "static", true},
		{"s3://assets/a/b", "assets", "a/b", true},
		{"s3://assets", "assets", "", true},
		{"s3://assets/", "assets", "", true},
		{"s3:///static", "", "", false},
		{"gs://assets/static", "", "", false},
		{"assets/static", "", "", false},
		{"s3://assets//static", "", "", false},
		{"s3://assets/a/../b", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			bucket, prefix, err := ParseURL(tt.in)
			if !tt.ok {
				assert.ErrorIs(t, err, fs.ErrInvalid)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.bucket, bucket)
			assert.Equal(t, tt.prefix, prefix)
		})
	}
}

func TestCopySource(t *testing.T) {
	assert.Equal(t, "assets/static/3f2a/img/a%20b%2Bc.svg", copySource("assets", "static/3f2a/img/a b+c.svg"))
	assert.Equal(t, "assets/s/%C3%BC%3F%23%25.css", copySource("assets", "s/ü?#%.css"))
}
