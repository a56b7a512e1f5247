package distill

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Builders for readable test tables.

func intT(name string, size uint32, enc uint8) btf.Type {
	return btf.Type{Kind: btf.KindInt, Name: name, Size: size, IntBits: uint8(size * 8), IntEncoding: enc}
}

func floatT(name string, size uint32) btf.Type {
	return btf.Type{Kind: btf.KindFloat, Name: name, Size: size}
}

func ref(k btf.Kind, name string, to btf.TypeID) btf.Type {
	return btf.Type{Kind: k, Name: name, Type: to}
}

func ptr(to btf.TypeID) btf.Type { return ref(btf.KindPtr, "", to) }

func typedef(name string, to btf.TypeID) btf.Type { return ref(btf.KindTypedef, name, to) }

func fwd(name string, union bool) btf.Type {
	return btf.Type{Kind: btf.KindFwd, Name: name, KindFlag: union}
}

func array(elem, index btf.TypeID, n uint32) btf.Type {
	return btf.Type{Kind: btf.KindArray, Type: elem, IndexType: index, Nelems: n}
}

func mem(name string, typ btf.TypeID, bitOff uint32) btf.Member {
	return btf.Member{Name: name, Type: typ, Offset: bitOff}
}

func structT(name string, size uint32, ms ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindStruct, Name: name, Size: size, Members: ms}
}

func unionT(name string, size uint32, ms ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindUnion, Name: name, Size: size, Members: ms}
}

func enumT(name string, size uint32, vals ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindEnum, Name: name, Size: size, Members: vals}
}

func enum64T(name string, size uint32, vals ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindEnum64, Name: name, Size: size, Members: vals}
}

func val(name string, v uint64) btf.Member { return btf.Enumerator(name, v) }

func proto(ret btf.TypeID, params ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindFuncProto, Type: ret, Members: params}
}

func param(name string, typ btf.TypeID) btf.Member { return btf.Member{Name: name, Type: typ} }

func funcT(name string, protoID btf.TypeID) btf.Type {
	return btf.Type{Kind: btf.KindFunc, Name: name, Type: protoID, Linkage: btf.LinkageGlobal}
}

func varT(name string, typ btf.TypeID) btf.Type {
	return btf.Type{Kind: btf.KindVar, Name: name, Type: typ, Linkage: btf.LinkageGlobalVar}
}

func datasec(name string, size uint32, vars ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindDatasec, Name: name, Size: size, Members: vars}
}

func declTag(name string, target btf.TypeID, component int32) btf.Type {
	return btf.Type{Kind: btf.KindDeclTag, Name: name, Type: target, ComponentIdx: component}
}

func spec(types ...btf.Type) *btf.Spec {
	return &btf.Spec{FirstID: 1, Types: types}
}

func split(base *btf.Spec, types ...btf.Type) *btf.Spec {
	return &btf.Spec{Base: base, FirstID: base.NextID(), Types: types}
}

// dump describes the types of s (its own part) one per line, with IDs, for
// comparisons that print readably when they fail.
func dump(s *btf.Spec) string {
	var b strings.Builder
	for i := range s.Types {
		t := &s.Types[i]
		fmt.Fprintf(&b, "[%d] %s %q", s.FirstID+btf.TypeID(i), t.Kind, t.Name)
		if t.KindFlag {
			b.WriteString(" kflag")
		}
		switch t.Kind {
		case btf.KindInt:
			fmt.Fprintf(&b, " size=%d enc=%d bits=%d", t.Size, t.IntEncoding, t.IntBits)
		case btf.KindArray:
			fmt.Fprintf(&b, " elem=%d index=%d n=%d", t.Type, t.IndexType, t.Nelems)
		case btf.KindStruct, btf.KindUnion, btf.KindDatasec:
			fmt.Fprintf(&b, " size=%d", t.Size)
			for _, m := range t.Members {
				fmt.Fprintf(&b, " %s:%d@%d/%d", m.Name, m.Type, m.Offset, m.Size)
			}
		case btf.KindEnum, btf.KindEnum64:
			fmt.Fprintf(&b, " size=%d", t.Size)
			for _, m := range t.Members {
				fmt.Fprintf(&b, " %s=%d", m.Name, int64(m.Value()))
			}
		case btf.KindFloat:
			fmt.Fprintf(&b, " size=%d", t.Size)
		case btf.KindFuncProto:
			fmt.Fprintf(&b, " ret=%d", t.Type)
			for _, m := range t.Members {
				fmt.Fprintf(&b, " %s:%d", m.Name, m.Type)
			}
		default:
			if t.Kind.HasRef() {
				fmt.Fprintf(&b, " -> %d", t.Type)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// sameGraph reports the first split type of a that is not the same type as the
// split type at the same position in b: same kind, name and fields, and references
// to the same types, decided structurally (coinductively for cycles) wherever the
// two sides refer to different IDs. Types a and b share (the same ID in the same
// base Spec) are the same. b may have more types than a: relocated split BTF keeps
// the copies distillation made of base types after the module's own types.
func sameGraph(a, b *btf.Spec) error {
	if len(b.Types) < len(a.Types) {
		return fmt.Errorf("%d types, want at least %d", len(b.Types), len(a.Types))
	}
	assumed := make(map[[2]btf.TypeID]bool)
	var same func(x, y btf.TypeID) bool
	same = func(x, y btf.TypeID) bool {
		if x == 0 || y == 0 {
			return x == y
		}
		if a.Base == b.Base && x == y && x < a.FirstID && y < b.FirstID {
			return true // the same base type
		}
		if v, ok := assumed[[2]btf.TypeID{x, y}]; ok {
			return v
		}
		assumed[[2]btf.TypeID{x, y}] = true
		tx, ty := a.Type(x), b.Type(y)
		if tx == nil || ty == nil {
			return false
		}
		cx, cy := cloneType(tx), cloneType(ty)
		if len(cx.Members) == 0 {
			cx.Members = nil
		}
		if len(cy.Members) == 0 {
			cy.Members = nil
		}
		var rx, ry []btf.TypeID
		for r := range refs(&cx) {
			rx = append(rx, *r)
			*r = 0
		}
		for r := range refs(&cy) {
			ry = append(ry, *r)
			*r = 0
		}
		ok := reflect.DeepEqual(cx, cy) && len(rx) == len(ry)
		for i := 0; ok && i < len(rx); i++ {
			ok = same(rx[i], ry[i])
		}
		assumed[[2]btf.TypeID{x, y}] = ok
		return ok
	}
	for i := range a.Types {
		x, y := a.FirstID+btf.TypeID(i), b.FirstID+btf.TypeID(i)
		if !same(x, y) {
			return fmt.Errorf("type %d (%s %q) is not the same as type %d", x, a.Types[i].Kind, a.Types[i].Name, y)
		}
	}
	return nil
}
