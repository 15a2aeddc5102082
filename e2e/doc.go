// Package e2e runs stampfs against real servers and browsers: nginx serving
// through stamp links, Chromium loading the demo page, stampfs publish
// writing to the Versity S3 gateway.
package e2e

import (
	_ "github.com/stampfs/stampfs"
	_ "github.com/stampfs/stampfs/publish/s3bucket" // built as stampfs-publish
	_ "github.com/stretchr/testify/assert"
)
