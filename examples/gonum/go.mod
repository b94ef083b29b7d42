module github.com/sharedarray/sharedarray/examples/gonum

go 1.24.0

require (
	github.com/sharedarray/sharedarray v0.0.0
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/kshedden/gonpy v0.0.0-20210519231815-fa3c8dd8e59b // indirect
	golang.org/x/sys v0.36.0 // indirect
)

replace github.com/sharedarray/sharedarray => ../..
