// Package e2e runs stampfs against real servers and browsers: nginx serving
// through stamp links, Chromium loading the demo page.
package e2e

import (
	_ "github.com/stampfs/stampfs"
	_ "github.com/stretchr/testify/assert"
)
