package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/rules-btf/rules_btf/converter/elfobj"
)

// The pahole front end: invoked as "pahole" (a symlink or copy of btf, busybox
// style) or as "btf pahole ARGS...", btf takes the command lines a kernel build
// gives pahole (Kbuild's scripts/link-vmlinux.sh, gen-btf.sh, Makefile.modfinal)
// and writes what that pahole would:
//
//	pahole -J [FLAGS] vmlinux                      .BTF added to (or replaced in) the file
//	pahole -J [FLAGS] --btf_base vmlinux mod.ko    split BTF of a module on vmlinux's
//	pahole --btf_encode_detached=F [FLAGS] ELF     raw BTF to F
//
// The pahole it reproduces is the one it claims to be: v1.32, or v1.24 when the
// environment has BTF_PAHOLE_VERSION=1.24. Options are parsed as pahole's argp parser
// does (long options by unique prefix, "--opt=value" or "--opt value", short options
// clustered, options before or after the file), with one addition: "-j N" takes N as
// the job count where pahole would take N for a file. Every pahole option that does
// not choose or write BTF is refused, naming the option, with exit status 2.

// paholeVersionEnv names the environment variable that chooses the pahole version
// the front end claims and reproduces.
const paholeVersionEnv = "BTF_PAHOLE_VERSION"

// paholeVersions are the versions the front end can claim, the first the default.
var paholeVersions = []string{"1.32", "1.24"}

// paholeArg says whether a pahole option takes a value.
type paholeArg int

const (
	argNone paholeArg = iota
	argRequired
	argOptional // only attached: --opt=value, -jVALUE
)

// paholeOpt is one of pahole's options. handle is nil for the options the front end
// refuses; since is the first pahole version that has it, if later than 1.24.
type paholeOpt struct {
	long   string
	short  byte
	arg    paholeArg
	since  string
	handle func(p *paholeRun, value string, given bool) error
}

// paholeRun is one pahole command line as parsed.
type paholeRun struct {
	version  string // "1.24" or "1.32"
	conf     *conf
	encode   bool   // -J or --btf_encode_detached
	detached string // --btf_encode_detached
	base     string // --btf_base
	jobs     int    // -j
	verbose  bool
	files    []string
	// exit: an option that prints and ends the run (--version, --help, ...).
	exit func(w io.Writer)
}

func setConf(field func(*conf) *bool) func(*paholeRun, string, bool) error {
	return func(p *paholeRun, _ string, _ bool) error {
		*field(p.conf) = true
		return nil
	}
}

// paholeOpts are pahole 1.32's options (its argp table, and argp's own --help,
// --usage and --version), the handled ones first.
var paholeOpts = func() []paholeOpt {
	opts := []paholeOpt{
		{long: "btf_encode", short: 'J', handle: func(p *paholeRun, _ string, _ bool) error { p.encode = true; return nil }},
		{long: "btf_encode_detached", arg: argRequired, handle: func(p *paholeRun, v string, _ bool) error {
			p.encode, p.detached = true, v
			return nil
		}},
		{long: "btf_base", arg: argRequired, handle: func(p *paholeRun, v string, _ bool) error { p.base = v; return nil }},
		{long: "jobs", short: 'j', arg: argOptional, handle: func(p *paholeRun, v string, given bool) error {
			if !given {
				p.jobs = runtime.NumCPU()
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: -j %q: want a number of jobs", errUsage, v)
			}
			p.jobs = max(n, 1)
			return nil
		}},
		{long: "btf_gen_all", handle: func(p *paholeRun, _ string, _ bool) error {
			if p.version == "1.24" {
				p.conf.genFloats = true // all pahole 1.24 could add
				return nil
			}
			// pahole 1.32: --btf_features=all.
			return p.conf.addFeatures("all", false)
		}},
		{long: "btf_features", arg: argRequired, since: "1.26", handle: func(p *paholeRun, v string, _ bool) error {
			return p.addFeatures(v, false)
		}},
		{long: "btf_features_strict", arg: argRequired, since: "1.26", handle: func(p *paholeRun, v string, _ bool) error {
			return p.addFeatures(v, true)
		}},
		{long: "supported_btf_features", since: "1.26", handle: func(p *paholeRun, _ string, _ bool) error {
			p.exit = func(w io.Writer) { fmt.Fprintln(w, strings.Join(featureNames(), ",")) }
			return nil
		}},
		{long: "lang_exclude", arg: argRequired, handle: func(p *paholeRun, v string, _ bool) error {
			p.conf.langExclude = strings.Split(v, ",")
			return nil
		}},
		{long: "verbose", short: 'V', handle: func(p *paholeRun, _ string, _ bool) error { p.verbose = true; return nil }},
		{long: "quiet", short: 'q', handle: func(*paholeRun, string, bool) error { return nil }},
		{long: "version", handle: func(p *paholeRun, _ string, _ bool) error {
			p.exit = func(w io.Writer) { fmt.Fprintf(w, "v%s\n", p.version) }
			return nil
		}},
		{long: "numeric_version", handle: func(p *paholeRun, _ string, _ bool) error {
			p.exit = func(w io.Writer) { fmt.Fprintln(w, strings.Replace(p.version, ".", "", 1)) }
			return nil
		}},
		{long: "help", short: '?', handle: func(p *paholeRun, _ string, _ bool) error { p.exit = printPaholeUsage; return nil }},
		{long: "usage", handle: func(p *paholeRun, _ string, _ bool) error { p.exit = printPaholeUsage; return nil }},
	}
	for _, l := range legacyFlags {
		o := paholeOpt{long: l.name, handle: setConf(l.field)}
		switch l.name {
		case "btf_gen_optimized", "skip_encoding_btf_inconsistent_proto":
			o.since = "1.25"
		case "reproducible_build":
			o.since = "1.27"
		case "btf_attributes":
			o.since = "1.30"
		}
		opts = append(opts, o)
	}
	// The rest of pahole's options print or select types, or load BTF into the
	// kernel: refused.
	refused := []struct {
		long  string
		short byte
		arg   paholeArg
	}{
		{"bit_holes", 'B', argRequired}, {"cacheline_size", 'c', argRequired}, {"class_name", 'C', argRequired},
		{"count", 0, argRequired}, {"skip", 0, argRequired}, {"seek_bytes", 0, argRequired},
		{"size_bytes", 0, argRequired}, {"range", 0, argRequired}, {"header_type", 0, argRequired},
		{"find_pointers_to", 'f', argRequired}, {"format_path", 'F', argRequired}, {"contains", 'i', argRequired},
		{"contains_enumerator", 0, argRequired}, {"show_decl_info", 'I', argNone}, {"holes", 'H', argRequired},
		{"padding_ge", 0, argRequired}, {"padding", 0, argRequired}, {"hole_size_ge", 'z', argRequired},
		{"packable", 'P', argNone}, {"with_flexible_array", 0, argNone}, {"with_embedded_flexible_array", 0, argNone},
		{"expand_types", 'E', argNone}, {"nr_members", 'n', argNone}, {"rel_offset", 'r', argNone},
		{"recursive", 'd', argNone}, {"reorganize", 'R', argNone}, {"show_reorg_steps", 'S', argNone},
		{"class_name_len", 'N', argNone}, {"show_first_biggest_size_base_type_member", 'l', argNone},
		{"nr_methods", 'm', argNone}, {"show_only_data_members", 'M', argNone}, {"expand_pointers", 'p', argNone},
		{"sizes", 's', argNone}, {"separator", 't', argRequired}, {"nr_definitions", 'T', argNone},
		{"decl_exclude", 'D', argRequired}, {"exclude", 'x', argRequired}, {"prefix_filter", 'y', argRequired},
		{"cu_exclude", 'X', argRequired}, {"anon_include", 'a', argNone}, {"nested_anon_include", 'A', argNone},
		{"defined_in", 'u', argNone}, {"word_size", 'w', argRequired}, {"ctf_encode", 'Z', argNone},
		{"flat_arrays", 0, argNone}, {"suppress_aligned_attribute", 0, argNone}, {"suppress_force_paddings", 0, argNone},
		{"suppress_packed", 0, argNone}, {"show_private_classes", 0, argNone}, {"fixup_silly_bitfields", 0, argNone},
		{"first_obj_only", 0, argNone}, {"classes_as_structs", 0, argNone}, {"hex", 0, argNone},
		{"kabi_prefix", 0, argRequired}, {"compile", 0, argNone}, {"structs", 0, argNone},
		{"unions", 0, argNone}, {"packed", 0, argNone}, {"sort", 0, argNone}, {"prettify", 0, argRequired},
		{"hashbits", 0, argRequired}, {"ptr_table_stats", 0, argNone}, {"skip_missing", 0, argNone},
		{"lang", 0, argRequired}, {"skip_emitting_atomic_typedefs", 0, argNone},
		{"running_kernel_vmlinux", 0, argNone},
	}
	for _, r := range refused {
		opts = append(opts, paholeOpt{long: r.long, short: r.short, arg: r.arg})
	}
	return opts
}()

// addFeatures applies a --btf_features value; as pahole, it reports the names it
// ignores if -V came before it.
func (p *paholeRun) addFeatures(list string, strict bool) error {
	n := len(p.conf.ignored)
	if err := p.conf.addFeatures(list, strict); err != nil {
		return err
	}
	if p.verbose {
		for _, name := range p.conf.ignored[n:] {
			fmt.Fprintf(os.Stderr, "Ignoring unsupported feature '%s'\n", name)
		}
	}
	return nil
}

// optName is how an option is named in messages: "--long (-s)".
func (o *paholeOpt) optName() string {
	if o.short != 0 {
		return fmt.Sprintf("--%s (-%c)", o.long, o.short)
	}
	return "--" + o.long
}

// findLong finds a long option by its name or a unique prefix of it, as argp does.
func findLong(name string) (*paholeOpt, error) {
	var match *paholeOpt
	for i := range paholeOpts {
		o := &paholeOpts[i]
		if o.long == name {
			return o, nil
		}
		if strings.HasPrefix(o.long, name) {
			if match != nil {
				return nil, fmt.Errorf("%w: option '--%s' is ambiguous (--%s, --%s, ...)", errUsage, name, match.long, o.long)
			}
			match = o
		}
	}
	if match == nil {
		return nil, fmt.Errorf("%w: unrecognized option '--%s'", errUsage, name)
	}
	return match, nil
}

func findShort(c byte) (*paholeOpt, error) {
	for i := range paholeOpts {
		if paholeOpts[i].short == c {
			return &paholeOpts[i], nil
		}
	}
	return nil, fmt.Errorf("%w: invalid option -- '%c'", errUsage, c)
}

// apply runs option o with its value.
func (p *paholeRun) apply(o *paholeOpt, value string, given bool) error {
	if o.handle == nil {
		return fmt.Errorf("%w: option %s is not supported: this pahole (rules_btf) only encodes BTF (-J, --btf_encode_detached)", errUsage, o.optName())
	}
	if o.since != "" && p.version == "1.24" {
		return fmt.Errorf("%w: option %s: pahole v1.24 has no such option (added in v%s; %s=1.32 claims v1.32)", errUsage, o.optName(), o.since, paholeVersionEnv)
	}
	return o.handle(p, value, given)
}

// parsePahole parses a pahole command line for the version claimed.
func parsePahole(args []string, version string) (*paholeRun, error) {
	p := &paholeRun{version: version, conf: &conf{}, jobs: 1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.files = append(p.files, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			o, err := findLong(name)
			if err != nil {
				return nil, err
			}
			switch {
			case o.arg == argNone && hasValue:
				return nil, fmt.Errorf("%w: option '--%s' doesn't allow an argument", errUsage, o.long)
			case o.arg == argRequired && !hasValue:
				if i+1 == len(args) {
					return nil, fmt.Errorf("%w: option '--%s' requires an argument", errUsage, o.long)
				}
				i++
				value, hasValue = args[i], true
			}
			if err := p.apply(o, value, hasValue); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && a != "-":
			for j := 1; j < len(a); j++ {
				o, err := findShort(a[j])
				if err != nil {
					return nil, err
				}
				value, given := a[j+1:], j+1 < len(a)
				switch o.arg {
				case argNone:
					value, given = "", false
				case argRequired:
					if !given {
						if i+1 == len(args) {
							return nil, fmt.Errorf("%w: option requires an argument -- '%c'", errUsage, o.short)
						}
						i++
						value, given = args[i], true
					}
				case argOptional:
					// "-j N": take N, where pahole would take it for a file name.
					if !given && o.short == 'j' && i+1 < len(args) && isNumber(args[i+1]) {
						i++
						value, given = args[i], true
					}
				}
				if err := p.apply(o, value, given); err != nil {
					return nil, err
				}
				if o.arg != argNone {
					break
				}
			}
		default:
			p.files = append(p.files, a)
		}
	}
	return p, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// runPahole is the pahole front end.
func runPahole(args []string, stdout io.Writer) error {
	version := os.Getenv(paholeVersionEnv)
	if version == "" {
		version = paholeVersions[0]
	}
	if !slices.Contains(paholeVersions, version) {
		return fmt.Errorf("%w: %s=%q: want one of %s", errUsage, paholeVersionEnv, version, strings.Join(paholeVersions, ", "))
	}
	args, err := expandParams(args)
	if err != nil {
		return err
	}
	p, err := parsePahole(args, version)
	if err != nil {
		return err
	}
	if p.exit != nil {
		p.exit(stdout)
		return nil
	}
	switch {
	case !p.encode:
		return fmt.Errorf("%w: this pahole (rules_btf) only encodes BTF: give -J or --btf_encode_detached=FILE", errUsage)
	case len(p.files) == 0:
		return fmt.Errorf("%w: no input file (pahole's default, the running kernel's vmlinux, is not supported)", errUsage)
	case len(p.files) > 1:
		return fmt.Errorf("%w: %d input files (%s): BTF is encoded from one file at a time", errUsage, len(p.files), strings.Join(p.files, ", "))
	}
	opts, err := p.conf.options(version)
	if err != nil {
		return err
	}
	in := p.files[0]
	o := outputs{raw: p.detached, elfIn: in, distilled: opts.DistilledBase}
	if p.detached == "" {
		o.elf = in // -J: in place
	} else {
		// pahole distills a module's base only when it writes the ELF.
		opts.DistilledBase, o.distilled = false, false
	}
	if opts.DistilledBase && p.base == "" {
		// pahole distills only split BTF; without a base the feature does nothing.
		opts.DistilledBase, o.distilled = false, false
	}
	spec, order, err := encodeFile(in, p.jobs, p.base, opts)
	switch {
	case errors.Is(err, elfobj.ErrNoDWARF) && version != "1.24":
		// pahole 1.32 encodes nothing and exits 0 (1.24 fails).
		if p.verbose {
			fmt.Fprintf(os.Stderr, "pahole: %v: nothing written\n", err)
		}
		return nil
	case err != nil:
		return err
	case p.base == "" && len(spec.Types) == 0:
		// No types (an assembler-only object): pahole writes nothing.
		return nil
	}
	return writeBTF(spec, order, o)
}

func printPaholeUsage(w io.Writer) {
	fmt.Fprintf(w, `usage: pahole -J [OPTION...] FILE           (rules_btf's pahole front end)
       pahole --btf_encode_detached=OUT [OPTION...] FILE
Encodes FILE's DWARF as BTF, as pahole v%s does (%s=1.24: as v1.24).
  -J, --btf_encode               write .BTF into FILE (added, or replaced)
      --btf_encode_detached=OUT  write raw BTF to OUT instead
      --btf_base=FILE            split BTF on FILE's BTF (vmlinux, or raw BTF)
  -j, --jobs[=N]                 use N threads (default: one per CPU)
      --btf_features=LIST        pahole's features (%s, default)
      --btf_features_strict=LIST as --btf_features; unknown names are an error
      --btf_gen_floats, --btf_gen_all, --btf_encode_force, --btf_gen_optimized,
      --skip_encoding_btf_{vars,decl_tag,type_tag,enum64,inconsistent_proto},
      --lang_exclude=LANGS, --reproducible_build, --btf_attributes, -V, -q
      --version, --numeric_version, --supported_btf_features
Other pahole options (pretty-printing, -C, ...) are refused.
`, paholeVersions[0], paholeVersionEnv, strings.Join(featureNames(), ","))
}
