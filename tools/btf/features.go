package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/finalize"
	"github.com/rules-btf/rules_btf/converter/pipeline"
)

// conf is what pahole's flags choose about the BTF it produces: the fields of its
// conf_load that the flags set, named after them. The flags are applied in
// command-line order, as pahole's option parser applies them, so that a legacy flag
// given after --btf_features overrides it, as in pahole. The same rules serve btf
// encode/shard/merge (addConvertFlags) and the pahole front end (pahole.go).
type conf struct {
	encodeForce           bool // --btf_encode_force; feature encode_force
	skipVars              bool // --skip_encoding_btf_vars; feature var
	genFloats             bool // --btf_gen_floats; feature float
	skipDeclTag           bool // --skip_encoding_btf_decl_tag; feature decl_tag
	skipTypeTag           bool // --skip_encoding_btf_type_tag; feature type_tag
	skipEnum64            bool // --skip_encoding_btf_enum64; feature enum64
	genOptimized          bool // --btf_gen_optimized; feature optimized_func
	skipInconsistentProto bool // --skip_encoding_btf_inconsistent_proto; feature consistent_func
	declTagKfuncs         bool // feature decl_tag_kfuncs
	reproducibleBuild     bool // --reproducible_build; feature reproducible_build
	distilledBase         bool // feature distilled_base
	globalVars            bool // feature global_var
	attributes            bool // --btf_attributes; feature attributes
	trueSignature         bool // feature true_signature
	forceCUMerging        bool // feature force_cu_merging

	// featuresSet: a --btf_features flag has reset every feature to off, once
	// (pahole's init_btf_features); later ones only add.
	featuresSet bool
	langExclude []string
	// ignored are the names --btf_features did not know, in order: pahole
	// ignores them (--btf_features_strict refuses them).
	ignored []string
}

// btfFeature is one of pahole's --btf_features names: the conf field it sets, the
// field's value while the feature is off, whether "default" enables it and whether
// "all" does. The table is pahole 1.32's, in its order (its --supported_btf_features).
type btfFeature struct {
	name  string
	field func(*conf) *bool
	off   bool
	dflt  bool
	all   bool
}

var btfFeatures = []btfFeature{
	{"encode_force", func(c *conf) *bool { return &c.encodeForce }, false, true, true},
	{"var", func(c *conf) *bool { return &c.skipVars }, true, true, true},
	{"float", func(c *conf) *bool { return &c.genFloats }, false, true, true},
	{"decl_tag", func(c *conf) *bool { return &c.skipDeclTag }, true, true, true},
	{"type_tag", func(c *conf) *bool { return &c.skipTypeTag }, true, true, true},
	{"enum64", func(c *conf) *bool { return &c.skipEnum64 }, true, true, true},
	{"optimized_func", func(c *conf) *bool { return &c.genOptimized }, false, true, true},
	{"consistent_func", func(c *conf) *bool { return &c.skipInconsistentProto }, false, true, true},
	{"decl_tag_kfuncs", func(c *conf) *bool { return &c.declTagKfuncs }, false, true, true},
	{"reproducible_build", func(c *conf) *bool { return &c.reproducibleBuild }, false, false, true},
	{"distilled_base", func(c *conf) *bool { return &c.distilledBase }, false, false, true},
	{"global_var", func(c *conf) *bool { return &c.globalVars }, false, false, true},
	{"attributes", func(c *conf) *bool { return &c.attributes }, false, false, true},
	{"true_signature", func(c *conf) *bool { return &c.trueSignature }, false, false, true},
	{"force_cu_merging", func(c *conf) *bool { return &c.forceCUMerging }, false, false, false},
}

func featureNames() []string {
	names := make([]string, len(btfFeatures))
	for i, f := range btfFeatures {
		names[i] = f.name
	}
	return names
}

func findFeature(name string) *btfFeature {
	for i := range btfFeatures {
		if btfFeatures[i].name == name {
			return &btfFeatures[i]
		}
	}
	return nil
}

// newConf is the configuration of btf encode/shard/merge before any flag: pahole's
// (every skip_* off, so variables, tags and ENUM64 are encoded and floats are not),
// but with Rust CUs excluded, as Kbuild always asks pahole >= 1.24 to. The pahole
// front end starts from pahole's own, which excludes nothing.
func newConf() *conf {
	return &conf{langExclude: []string{"rust"}}
}

// enable turns on the features of the group "default" or "all".
func (c *conf) enable(group string) {
	for _, f := range btfFeatures {
		if group == "default" && f.dflt || group == "all" && f.all {
			*f.field(c) = !f.off
		}
	}
}

// addFeatures is pahole's parse_btf_features for one --btf_features (strict:
// --btf_features_strict) value. The first such flag turns every feature off; each
// adds the features it names, so repeated flags add up. "default" enables the
// default features, alone or in the list, as does a leading '+' before a list of
// further ones; "all" enables every feature but force_cu_merging (pahole 1.32 does
// so, though it no longer lists the name). A name pahole does not know is ignored
// (recorded in c.ignored), or with strict refused.
func (c *conf) addFeatures(list string, strict bool) error {
	if !c.featuresSet {
		for _, f := range btfFeatures {
			*f.field(c) = f.off
		}
		c.featuresSet = true
	}
	if list == "default" || list == "all" {
		c.enable(list)
		return nil
	}
	if rest, ok := strings.CutPrefix(list, "+"); ok {
		c.enable("default")
		list = rest
	}
	for _, name := range strings.Split(list, ",") {
		if name == "" { // strtok skips empty fields
			continue
		}
		f := findFeature(name)
		switch {
		case f != nil:
			*f.field(c) = !f.off
			continue
		case name == "default" || name == "all":
			c.enable(name)
		case strict:
			return fmt.Errorf("%w: feature %q in %q is not supported; supported BTF features are: %s",
				errUsage, name, list, strings.Join(featureNames(), ","))
		}
		// pahole reports "default" and "all" too when verbose: they match no
		// entry.
		c.ignored = append(c.ignored, name)
	}
	return nil
}

// boolFlag is a flag without a value that runs set when given (flag.BoolFunc
// without the optional "=value").
type boolFlag func()

func (f boolFlag) String() string   { return "" }
func (f boolFlag) Set(string) error { f(); return nil }
func (f boolFlag) IsBoolFlag() bool { return true }

// legacyFlags are pahole's flags that each turn one conf field on, in their own
// names.
var legacyFlags = []struct {
	name, usage string
	field       func(*conf) *bool
}{
	{"btf_gen_floats", "encode floating point types as FLOAT (feature float)", func(c *conf) *bool { return &c.genFloats }},
	{"skip_encoding_btf_vars", "no VAR and DATASEC (no feature var)", func(c *conf) *bool { return &c.skipVars }},
	{"skip_encoding_btf_decl_tag", "no DECL_TAG (no feature decl_tag)", func(c *conf) *bool { return &c.skipDeclTag }},
	{"skip_encoding_btf_type_tag", "no TYPE_TAG (no feature type_tag)", func(c *conf) *bool { return &c.skipTypeTag }},
	{"skip_encoding_btf_enum64", "no ENUM64 (no feature enum64)", func(c *conf) *bool { return &c.skipEnum64 }},
	{"btf_encode_force", "skip what cannot be encoded instead of failing (feature encode_force)", func(c *conf) *bool { return &c.encodeForce }},
	{"btf_gen_optimized", "feature optimized_func", func(c *conf) *bool { return &c.genOptimized }},
	{"skip_encoding_btf_inconsistent_proto", "no FUNC for functions whose prototypes differ between CUs (feature consistent_func)", func(c *conf) *bool { return &c.skipInconsistentProto }},
	{"reproducible_build", "feature reproducible_build (our output is always reproducible)", func(c *conf) *bool { return &c.reproducibleBuild }},
	{"btf_attributes", "feature attributes", func(c *conf) *bool { return &c.attributes }},
}

// convertFlags are the flags of btf encode/shard/merge that choose what BTF is
// produced: pahole's, with pahole's rules, and --compat.
type convertFlags struct {
	compat string
	conf   *conf
}

func addConvertFlags(fs *flag.FlagSet) *convertFlags {
	c := &convertFlags{conf: newConf()}
	fs.StringVar(&c.compat, "compat", "1.32", "reproduce pahole `version` 1.24 or 1.32 where they differ")
	fs.Func("btf_features", "comma-separated `features`, as pahole's --btf_features ("+strings.Join(featureNames(), ",")+", default); the first turns every feature off, each adds the ones it lists; unknown names are ignored with a warning", func(v string) error {
		return c.conf.addFeatures(v, false)
	})
	fs.Func("btf_features_strict", "as --btf_features, but an unknown name is an error", func(v string) error {
		return c.conf.addFeatures(v, true)
	})
	fs.Func("lang_exclude", "comma-separated `languages` whose compilation units are skipped (default rust)", func(v string) error {
		c.conf.langExclude = strings.Split(v, ",")
		return nil
	})
	for _, l := range legacyFlags {
		fs.Var(boolFlag(func() { *l.field(c.conf) = true }), l.name, l.usage)
	}
	return c
}

// options maps the flags onto every stage's options; unknown feature names are
// reported on w.
func (c *convertFlags) options(w io.Writer) (pipeline.Options, error) {
	for _, name := range c.conf.ignored {
		fmt.Fprintf(w, "btf: warning: --btf_features: unknown feature %q ignored (known: %s)\n", name, strings.Join(featureNames(), ","))
	}
	return c.conf.options(c.compat)
}

// options maps c onto every stage's options, reproducing pahole compat (1.24 or
// 1.32).
func (c *conf) options(compat string) (pipeline.Options, error) {
	var opts pipeline.Options
	switch compat {
	case "1.24":
		opts.Encode.Compat = encode.Compat124
		opts.Finalize.Compat = finalize.Pahole124
	case "1.32":
		opts.Encode.Compat = encode.Compat132
		opts.Finalize.Compat = finalize.Pahole132
		// pahole 1.32 as distributions ship it links libbpf 1.7.0, whose dedup
		// differs from 1.1's (package dedup, "libbpf 1.7.0"): typedefs are matched
		// by the struct pass's graph walk, a module typedef never finds its base
		// twin (fixed after 1.7.0), and the identical-types fallback covers every
		// kind, comparing arrays by length only. Its module BTF shows all three.
		opts.Dedup.Libbpf170 = true
	default:
		return opts, fmt.Errorf("%w: --compat %q: want 1.24 or 1.32", errUsage, compat)
	}
	if len(c.langExclude) > 0 && c.langExclude[0] != "" {
		opts.Encode.LangExclude = c.langExclude
	}
	if c.genFloats {
		opts.Encode.Features |= encode.FeatureFloat
	}
	if !c.skipDeclTag {
		opts.Encode.Features |= encode.FeatureDeclTag
	}
	if !c.skipTypeTag {
		opts.Encode.Features |= encode.FeatureTypeTag
	}
	if !c.skipEnum64 {
		opts.Encode.Features |= encode.FeatureEnum64
	}
	opts.Finalize.SkipVars = c.skipVars
	opts.Finalize.SkipDeclTags = c.skipDeclTag
	opts.Finalize.Force = c.encodeForce
	opts.DistilledBase = c.distilledBase
	opts.Finalize.GlobalVars = c.globalVars // refused in 1.24 mode: pahole 1.24 has no such feature
	if compat == "1.32" {
		// pahole 1.32 keeps a function whose prototypes differ between CUs
		// (taking the canonical one) unless told to skip it.
		opts.Finalize.InconsistentFuncs = !c.skipInconsistentProto
		opts.Finalize.TagKfuncs = c.declTagKfuncs // pahole 1.24 has no kfunc tags
		opts.Finalize.ArenaAttributes = c.attributes
	}
	// optimized_func: pahole 1.31 and later encode functions with optimized-out
	// parameters whether or not it is given (the 1.32 function policy).
	// reproducible_build: our output is always reproducible.
	switch {
	case c.trueSignature:
		return opts, fmt.Errorf("%w: feature true_signature is not supported by rules_btf", errUsage)
	case c.forceCUMerging:
		return opts, fmt.Errorf("%w: feature force_cu_merging is not supported by rules_btf", errUsage)
	}
	return opts, nil
}
