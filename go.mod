module github.com/rules-btf/rules_btf

go 1.26.0

require (
	github.com/cilium/ebpf v0.20.0
	golang.org/x/sync v0.25.0
)

require golang.org/x/sys v0.37.0 // indirect
