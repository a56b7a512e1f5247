package main

import (
	"fmt"
	"os"
	"strings"
)

// expandParams replaces every argument of the form @FILE with the lines of FILE, one
// argument per line, as Bazel writes params files with
// Args.set_param_file_format("multiline"). Params files are not expanded
// recursively. A literal argument starting with '@' can be given as "@@...".
func expandParams(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "@@"):
			out = append(out, a[1:])
		case strings.HasPrefix(a, "@") && len(a) > 1:
			data, err := os.ReadFile(a[1:])
			if err != nil {
				return nil, fmt.Errorf("params file: %w", err)
			}
			text := strings.TrimSuffix(string(data), "\n")
			if text == "" {
				continue
			}
			for _, line := range strings.Split(text, "\n") {
				out = append(out, strings.TrimSuffix(line, "\r"))
			}
		default:
			out = append(out, a)
		}
	}
	return out, nil
}
