// Package e2e runs stampfs against real servers and browsers: nginx and
// Apache serving versions with the configurations stampfs prints, a
// hostile-path sweep through both, Chromium loading the demo page.
package e2e

import (
	_ "github.com/stampfs/stampfs"
	_ "github.com/stretchr/testify/assert"
)
