package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/finalize"
	"github.com/rules-btf/rules_btf/converter/pipeline"
)

// convertFlags are the flags that choose what BTF is produced, named as pahole names
// them so that a kernel build's pahole flags carry over. Each is mapped onto the
// options of the stage that owns the decision.
type convertFlags struct {
	compat      string
	features    string
	langExclude string
	genFloats   bool
	skipVars    bool
	skipDeclTag bool
	skipTypeTag bool
	skipEnum64  bool
	encodeForce bool
}

func addConvertFlags(fs *flag.FlagSet) *convertFlags {
	c := &convertFlags{}
	fs.StringVar(&c.compat, "compat", "1.32", "reproduce pahole `version` 1.24 or 1.32 where they differ")
	fs.StringVar(&c.features, "btf_features", "", "comma-separated `features` as pahole's --btf_features ("+strings.Join(featureNames(), ",")+"); replaces the defaults")
	fs.StringVar(&c.langExclude, "lang_exclude", "rust", "comma-separated `languages` whose compilation units are skipped")
	fs.BoolVar(&c.genFloats, "btf_gen_floats", false, "encode floating point types as FLOAT (feature float)")
	fs.BoolVar(&c.skipVars, "skip_encoding_btf_vars", false, "no VAR and DATASEC (no feature var)")
	fs.BoolVar(&c.skipDeclTag, "skip_encoding_btf_decl_tag", false, "no DECL_TAG (no feature decl_tag)")
	fs.BoolVar(&c.skipTypeTag, "skip_encoding_btf_type_tag", false, "no TYPE_TAG (no feature type_tag)")
	fs.BoolVar(&c.skipEnum64, "skip_encoding_btf_enum64", false, "no ENUM64 (no feature enum64)")
	fs.BoolVar(&c.encodeForce, "btf_encode_force", false, "skip what cannot be encoded instead of failing (feature encode_force)")
	return c
}

// feature is one of pahole's --btf_features names and what it switches on.
type feature struct {
	encode func(*encode.Options)
	final  func(*finalize.Options)
	pipe   func(*pipeline.Options)
}

var features = map[string]feature{
	"encode_force":       {final: func(o *finalize.Options) { o.Force = true }},
	"var":                {final: func(o *finalize.Options) { o.SkipVars = false }},
	"float":              {encode: func(o *encode.Options) { o.Features |= encode.FeatureFloat }},
	"decl_tag":           {encode: func(o *encode.Options) { o.Features |= encode.FeatureDeclTag }},
	"type_tag":           {encode: func(o *encode.Options) { o.Features |= encode.FeatureTypeTag }},
	"enum64":             {encode: func(o *encode.Options) { o.Features |= encode.FeatureEnum64 }},
	"consistent_func":    {final: func(o *finalize.Options) { o.InconsistentFuncs = false }},
	"global_var":         {final: func(o *finalize.Options) { o.GlobalVars = true }},
	"optimized_func":     {},                                                                                  // the 1.32 function policy always applies it
	"decl_tag_kfuncs":    {final: func(o *finalize.Options) { o.TagKfuncs = o.Compat == finalize.Pahole132 }}, // pahole 1.24 has no kfunc tags
	"reproducible_build": {},                                                                                  // our output is always reproducible
	"distilled_base":     {pipe: func(o *pipeline.Options) { o.DistilledBase = true }},                        // split BTF only; written as .BTF.base / --base-out
}

func featureNames() []string {
	names := make([]string, 0, len(features))
	for n := range features {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// options maps the flags onto every stage's options.
func (c *convertFlags) options() (pipeline.Options, error) {
	var opts pipeline.Options
	switch c.compat {
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
		return opts, fmt.Errorf("%w: --compat %q: want 1.24 or 1.32", errUsage, c.compat)
	}
	if c.langExclude != "" {
		opts.Encode.LangExclude = strings.Split(c.langExclude, ",")
	}
	if c.features != "" {
		// pahole: --btf_features lists exactly what is wanted; the legacy
		// --skip_encoding_* flags do not apply.
		opts.Finalize.SkipVars = true
		opts.Finalize.InconsistentFuncs = opts.Finalize.Compat == finalize.Pahole132
		for _, name := range strings.Split(c.features, ",") {
			name = strings.TrimSpace(name)
			f, ok := features[name]
			if !ok {
				return opts, fmt.Errorf("%w: --btf_features: unknown feature %q (known: %s)", errUsage, name, strings.Join(featureNames(), ", "))
			}
			if f.encode != nil {
				f.encode(&opts.Encode)
			}
			if f.final != nil {
				f.final(&opts.Finalize)
			}
			if f.pipe != nil {
				f.pipe(&opts)
			}
		}
		return opts, nil
	}
	// pahole's defaults without --btf_features: variables, tags and ENUM64 on,
	// floats only when asked for.
	opts.Encode.Features = encode.FeatureDeclTag | encode.FeatureTypeTag | encode.FeatureEnum64
	if c.genFloats {
		opts.Encode.Features |= encode.FeatureFloat
	}
	if c.skipDeclTag {
		opts.Encode.Features &^= encode.FeatureDeclTag
	}
	if c.skipTypeTag {
		opts.Encode.Features &^= encode.FeatureTypeTag
	}
	if c.skipEnum64 {
		opts.Encode.Features &^= encode.FeatureEnum64
	}
	opts.Finalize.SkipVars = c.skipVars
	opts.Finalize.Force = c.encodeForce
	return opts, nil
}
