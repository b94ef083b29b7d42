module github.com/sharedarray/sharedarray

go 1.24.0

require (
	github.com/kshedden/gonpy v0.0.0-20210519231815-fa3c8dd8e59b
	golang.org/x/sys v0.36.0
	gotest.tools/v3 v3.5.2
)

require github.com/google/go-cmp v0.5.9 // indirect
