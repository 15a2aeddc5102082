module github.com/stampfs/stampfs/bench

go 1.25

require github.com/stampfs/stampfs v0.0.0

require (
	github.com/benbjohnson/hashfs v0.2.2
	github.com/spf13/afero v1.15.0 // indirect
	golang.org/x/text v0.28.0 // indirect
)

replace github.com/stampfs/stampfs => ../
