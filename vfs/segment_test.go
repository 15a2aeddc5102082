package vfs_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stampfs/stampfs/vfs"
)

func TestValidSegment(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"e3b0c44298fc", true},
		{"v1.2.3", true},
		{"1542798662", true},
		{"A_b-C.d", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{".", false},
		{"..", false},
		{".git", false},
		{"a/b", false},
		{"a\\b", false},
		{"/", false},
		{"a\x00", false},
		{"a b", false},
		{"é", false},
		{"a%2f", false},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, vfs.ValidSegment(tt.in), "ValidSegment(%q)", tt.in)
	}
}
