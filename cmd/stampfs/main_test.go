package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		status   int
		contains string // in stderr, besides the usage
	}{
		{"no command", nil, exitUsage, ""},
		{"unknown command", []string{"stamps", "static"}, exitUsage, `stampfs: unknown command "stamps"`},
		{"flag before the command", []string{"-strategy", "git", "stamp"}, exitUsage, `stampfs: unknown command "-strategy"`},
		{"-h", []string{"-h"}, exitOK, ""},
		{"--help", []string{"--help"}, exitOK, ""},
		{"help", []string{"help"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errOut := runCmd(tt.args...)
			assert.Equal(t, tt.status, status)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.contains)
			assert.Contains(t, errOut, "usage: stampfs <command> [flags] [DIR]")
			for name := range commands {
				assert.Contains(t, errOut, "\n  "+name+" ", "the usage lists every command")
			}
		})
	}
}
