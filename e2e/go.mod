module github.com/stampfs/stampfs/e2e

go 1.25

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/stampfs/stampfs v0.0.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

require (
	github.com/spf13/afero v1.15.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.28.0 // indirect
)

replace github.com/stampfs/stampfs => ../
