module github.com/stampfs/stampfs/publish

go 1.25

require (
	github.com/spf13/afero v1.15.0
	github.com/stampfs/stampfs v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.28.0 // indirect
)

replace github.com/stampfs/stampfs => ../
