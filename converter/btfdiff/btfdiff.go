// Package btfdiff compares two BTF specs as sets of types, regardless of type IDs and
// order: are they the same types?
//
// # Canonical descriptions
//
// Every type gets a canonical description that mentions no type ID. Referenced types
// are described in place, recursively, except named STRUCT, UNION, ENUM, ENUM64,
// TYPEDEF and FWD, which are referred to by kind and name (and, for structs, unions
// and enums, byte size) - that is where recursion stops, so cycles through pointers
// (struct list_head { struct list_head *next; }) terminate. Anonymous structs and
// unions, pointers, arrays, qualifiers, FUNC_PROTOs and the rest are spelled out
// inline. For example a member
//
//	struct { struct list_head *next; } a;
//
// of a struct is described as "a:struct{next:*struct list_head/16@0}@64", whatever
// the IDs of the anonymous struct and the pointer are. A malformed spec with a cycle
// through anonymous types only is described with a "<cycle>" marker, not followed.
//
// Two specs are equal when, for each kind, the multisets of their types' canonical
// descriptions are equal: duplicates count (two identical FUNCs are not one). The
// report gives, per kind, the counts in A and B and how many descriptions are in
// excess on either side, with examples in ID order.
//
// What the description cannot see: which of several same-named, same-sized structs
// a reference points to (they are referred to by kind, name and size). Their own
// descriptions are compared in full, so a difference between them is still found;
// only a reference swapped between two identical-looking ones is not.
//
// For split BTF only the split part of each spec is compared; references into the
// base are described the same way as any other, so two modules split on different
// (or differently numbered) bases compare equal when their types are.
package btfdiff

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Options controls Diff.
type Options struct {
	// IgnoreKinds are left out of the comparison (they are still described where
	// other types refer to them).
	IgnoreKinds []btf.Kind
	// MaxExamples is the number of examples per kind and side; 0 means none.
	MaxExamples int
}

// Report is the result of Diff.
type Report struct {
	// Kinds has one entry per kind present in A or B and not ignored, in kind order.
	Kinds []KindReport
	// Ignored are the kinds left out, in kind order.
	Ignored []btf.Kind
}

// KindReport compares the types of one kind.
type KindReport struct {
	Kind           btf.Kind
	CountA, CountB int
	// OnlyA is the number of A's types whose description B has fewer times (each
	// extra occurrence counts once); OnlyB the reverse.
	OnlyA, OnlyB int
	// ExamplesA and ExamplesB are the first such types, in ID order.
	ExamplesA, ExamplesB []Example
}

// Example is one type found on one side only.
type Example struct {
	ID   btf.TypeID
	Kind btf.Kind
	Name string
	// Desc is the canonical description, cut to maxDescLen bytes.
	Desc string
}

const maxDescLen = 240

// Equal reports whether no kind has a difference.
func (r *Report) Equal() bool {
	for _, k := range r.Kinds {
		if k.OnlyA != 0 || k.OnlyB != 0 {
			return false
		}
	}
	return true
}

// WriteText writes the report as a table of counts followed by the examples.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tA\tB\tonly A\tonly B\t")
	var totA, totB, onlyA, onlyB int
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", k.Kind, k.CountA, k.CountB, k.OnlyA, k.OnlyB)
		totA, totB, onlyA, onlyB = totA+k.CountA, totB+k.CountB, onlyA+k.OnlyA, onlyB+k.OnlyB
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t\n", totA, totB, onlyA, onlyB)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Ignored) > 0 {
		names := make([]string, len(r.Ignored))
		for i, k := range r.Ignored {
			names[i] = k.String()
		}
		fmt.Fprintf(w, "ignored: %s\n", strings.Join(names, ", "))
	}
	for _, k := range r.Kinds {
		for _, side := range []struct {
			label string
			ex    []Example
		}{{"only in A", k.ExamplesA}, {"only in B", k.ExamplesB}} {
			for _, e := range side.ex {
				fmt.Fprintf(w, "%s: %s %q (ID %d): %s\n", side.label, e.Kind, e.Name, e.ID, e.Desc)
			}
		}
	}
	verdict := "equal"
	if !r.Equal() {
		verdict = "different"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// KindCount is the number of types of one kind.
type KindCount struct {
	Kind  btf.Kind
	Count int
}

// Stat counts the types of s per kind (for split BTF: the split part only), in kind
// order, leaving out kinds with no types.
func Stat(s *btf.Spec) []KindCount {
	s.DecodeTypes()
	var n [256]int
	for i := range s.Types {
		n[s.Types[i].Kind]++
	}
	var out []KindCount
	for k, c := range n {
		if c > 0 {
			out = append(out, KindCount{btf.Kind(k), c})
		}
	}
	return out
}

// Diff compares a and b (for split BTF: their split parts) as described in the
// package documentation.
func Diff(a, b *btf.Spec, opts Options) *Report {
	for _, s := range []*btf.Spec{a, b, a.Base, b.Base} {
		s.DecodeTypes()
	}
	var ignore [256]bool
	for _, k := range opts.IgnoreKinds {
		ignore[k] = true
	}
	da, db := describeAll(a, &ignore), describeAll(b, &ignore)

	// Per kind, the excess of each description on each side.
	var counts [256]map[string]int
	for i, d := range da {
		if d != "" {
			k := a.Types[i].Kind
			if counts[k] == nil {
				counts[k] = make(map[string]int)
			}
			counts[k][d]++
		}
	}
	for i, d := range db {
		if d != "" {
			k := b.Types[i].Kind
			if counts[k] == nil {
				counts[k] = make(map[string]int)
			}
			counts[k][d]--
		}
	}

	r := &Report{}
	var per [256]*KindReport
	for k := range 256 {
		if ignore[k] {
			r.Ignored = append(r.Ignored, btf.Kind(k))
		}
	}
	for _, s := range []*btf.Spec{a, b} {
		for i := range s.Types {
			if k := s.Types[i].Kind; !ignore[k] && per[k] == nil {
				per[k] = &KindReport{Kind: k}
			}
		}
	}
	for i := range a.Types {
		if k := a.Types[i].Kind; per[k] != nil {
			per[k].CountA++
		}
	}
	for i := range b.Types {
		if k := b.Types[i].Kind; per[k] != nil {
			per[k].CountB++
		}
	}
	// Walk each side in ID order, handing out the excess of each description to
	// the first types that have it.
	examples := func(s *btf.Spec, descs []string, sign int, only func(*KindReport) (*int, *[]Example)) {
		taken := make(map[string]int)
		for i, d := range descs {
			if d == "" {
				continue
			}
			t := &s.Types[i]
			excess := sign * counts[t.Kind][d]
			if excess <= 0 || taken[d] >= excess {
				continue
			}
			taken[d]++
			n, ex := only(per[t.Kind])
			*n++
			if len(*ex) < opts.MaxExamples {
				desc := d
				if len(desc) > maxDescLen {
					desc = desc[:maxDescLen] + "..."
				}
				*ex = append(*ex, Example{ID: s.FirstID + btf.TypeID(i), Kind: t.Kind, Name: t.Name, Desc: desc})
			}
		}
	}
	examples(a, da, 1, func(k *KindReport) (*int, *[]Example) { return &k.OnlyA, &k.ExamplesA })
	examples(b, db, -1, func(k *KindReport) (*int, *[]Example) { return &k.OnlyB, &k.ExamplesB })
	for _, k := range per {
		if k != nil {
			r.Kinds = append(r.Kinds, *k)
		}
	}
	return r
}

// describeAll returns the canonical description of each type of s's split part (""
// for ignored kinds).
func describeAll(s *btf.Spec, ignore *[256]bool) []string {
	d := &describer{s: s, memo: make([]string, s.NextID()), state: make([]uint8, s.NextID())}
	out := make([]string, len(s.Types))
	for i := range s.Types {
		if ignore[s.Types[i].Kind] {
			continue
		}
		id := s.FirstID + btf.TypeID(i)
		if byName(&s.Types[i]) {
			out[i] = d.full(id)
		} else {
			out[i] = d.ref(id) // the full description, memoized for references to it
		}
	}
	return out
}

// byName reports whether references to t are by kind and name.
func byName(t *btf.Type) bool {
	if t.Name == "" {
		return false
	}
	switch t.Kind {
	case btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindTypedef, btf.KindFwd:
		return true
	}
	return false
}

// describer builds canonical descriptions, memoizing the inline (reference) form of
// each type.
type describer struct {
	s     *btf.Spec
	memo  []string // ref description by ID, valid when state is done
	state []uint8  // by ID: 0 new, 1 being described, 2 done
}

// ref describes a reference to id: by kind and name for named structs, unions,
// enums, typedefs and forward declarations, in full for everything else.
func (d *describer) ref(id btf.TypeID) string {
	if id == 0 {
		return "void"
	}
	t := d.s.Type(id)
	if t == nil {
		return "<bad ID>"
	}
	if byName(t) {
		switch t.Kind {
		case btf.KindStruct:
			return "struct " + t.Name + "/" + strconv.FormatUint(uint64(t.Size), 10)
		case btf.KindUnion:
			return "union " + t.Name + "/" + strconv.FormatUint(uint64(t.Size), 10)
		case btf.KindEnum, btf.KindEnum64:
			return "enum " + t.Name + "/" + strconv.FormatUint(uint64(t.Size), 10)
		case btf.KindTypedef:
			return "typedef " + t.Name
		case btf.KindFwd:
			return fwdDesc(t)
		}
	}
	switch d.state[id] {
	case 2:
		return d.memo[id]
	case 1:
		return "<cycle>"
	}
	d.state[id] = 1
	s := d.full(id)
	d.memo[id], d.state[id] = s, 2
	return s
}

func fwdDesc(t *btf.Type) string {
	if t.KindFlag {
		return "fwd union " + t.Name
	}
	return "fwd struct " + t.Name
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// full describes the type id itself.
func (d *describer) full(id btf.TypeID) string {
	t := d.s.Type(id)
	var b strings.Builder
	switch t.Kind {
	case btf.KindInt:
		// "int/4:32 signed": name, byte size, value bits, encoding.
		b.WriteString(t.Name + "/" + u(uint64(t.Size)) + ":" + u(uint64(t.IntBits)))
		if t.IntOffset != 0 {
			b.WriteString(" off=" + u(uint64(t.IntOffset)))
		}
		for _, e := range []struct {
			bit  uint8
			name string
		}{{btf.IntSigned, " signed"}, {btf.IntChar, " char"}, {btf.IntBool, " bool"}} {
			if t.IntEncoding&e.bit != 0 {
				b.WriteString(e.name)
			}
		}
		if rest := t.IntEncoding &^ (btf.IntSigned | btf.IntChar | btf.IntBool); rest != 0 {
			b.WriteString(" enc=" + u(uint64(rest)))
		}
	case btf.KindPtr:
		b.WriteString("*" + d.ref(t.Type))
	case btf.KindArray:
		b.WriteString("[" + u(uint64(t.Nelems)) + "]" + d.ref(t.Type) + " index " + d.ref(t.IndexType))
	case btf.KindStruct, btf.KindUnion:
		if t.Kind == btf.KindStruct {
			b.WriteString("struct")
		} else {
			b.WriteString("union")
		}
		if t.Name != "" {
			b.WriteString(" " + t.Name)
		}
		b.WriteString("/" + u(uint64(t.Size)) + "{")
		for i, m := range t.Members {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(m.Name + ":" + d.ref(m.Type) + "@" + u(uint64(m.Offset)))
			if m.Size != 0 {
				b.WriteString(":" + u(uint64(m.Size)))
			}
		}
		b.WriteString("}")
	case btf.KindEnum, btf.KindEnum64:
		if t.Kind == btf.KindEnum {
			b.WriteString("enum")
		} else {
			b.WriteString("enum64")
		}
		if t.Name != "" {
			b.WriteString(" " + t.Name)
		}
		b.WriteString("/" + u(uint64(t.Size)))
		if t.KindFlag {
			b.WriteString(" signed")
		}
		b.WriteString("{")
		for i, m := range t.Members {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.Name + "=")
			if t.KindFlag {
				b.WriteString(strconv.FormatInt(int64(m.Value()), 10))
			} else {
				b.WriteString(u(m.Value()))
			}
		}
		b.WriteString("}")
	case btf.KindFwd:
		b.WriteString(fwdDesc(t))
	case btf.KindTypedef:
		b.WriteString("typedef " + t.Name + " = " + d.ref(t.Type))
	case btf.KindVolatile:
		b.WriteString("volatile " + d.ref(t.Type))
	case btf.KindConst:
		b.WriteString("const " + d.ref(t.Type))
	case btf.KindRestrict:
		b.WriteString("restrict " + d.ref(t.Type))
	case btf.KindTypeTag:
		b.WriteString("type_tag(" + t.Name + ") " + d.ref(t.Type))
	case btf.KindFunc:
		b.WriteString("func " + t.Name + " linkage=" + u(uint64(t.Linkage)) + " " + d.ref(t.Type))
	case btf.KindFuncProto:
		b.WriteString("fn(")
		for i, m := range t.Members {
			if i > 0 {
				b.WriteString(", ")
			}
			if m.Name == "" && m.Type == 0 {
				b.WriteString("...")
				continue
			}
			b.WriteString(m.Name + ":" + d.ref(m.Type))
		}
		b.WriteString(") " + d.ref(t.Type))
	case btf.KindVar:
		b.WriteString("var " + t.Name + " linkage=" + u(uint64(t.Linkage)) + " " + d.ref(t.Type))
	case btf.KindDatasec:
		b.WriteString("datasec " + t.Name + "/" + u(uint64(t.Size)) + "{")
		for i, m := range t.Members {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(d.ref(m.Type) + "@" + u(uint64(m.Offset)) + ":" + u(uint64(m.Size)))
		}
		b.WriteString("}")
	case btf.KindFloat:
		b.WriteString("float " + t.Name + "/" + u(uint64(t.Size)))
	case btf.KindDeclTag:
		b.WriteString("decl_tag(" + t.Name + ") ")
		if t.KindFlag {
			b.WriteString("attr ")
		}
		b.WriteString(strconv.FormatInt(int64(t.ComponentIdx), 10) + " " + d.ref(t.Type))
	default:
		b.WriteString(t.Kind.String())
	}
	return b.String()
}
