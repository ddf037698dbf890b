package zerofield

import (
	"slices"
	"testing"
	"time"
)

type inner struct {
	D time.Duration
	T time.Time
}

type outer struct {
	Name   string
	In     inner
	Ptr    *inner
	List   []inner
	Tags   map[string]string
	Data   []byte
	hidden int
}

func TestFind(t *testing.T) {
	t.Parallel()
	full := outer{
		Name: "x",
		In:   inner{D: 1, T: time.Unix(1, 0)},
		Ptr:  &inner{D: 2, T: time.Unix(2, 0)},
		List: []inner{{D: 3, T: time.Unix(3, 0)}},
		Tags: map[string]string{"k": "v"},
		Data: []byte{0},
		// hidden stays zero: unexported fields are not the wire's business.
		hidden: 0,
	}
	cases := map[string]struct {
		value any
		want  []string
	}{
		"every field set": {value: full, want: nil},
		"nested zero fields": {
			value: outer{Name: "x", In: inner{D: 1}, Ptr: &inner{T: time.Unix(2, 0)}, List: []inner{{}}, Tags: map[string]string{"k": ""}, Data: []byte{1}},
			want:  []string{"In.T", "Ptr.D", "List[0]", "Tags[k]"},
		},
		"empty collections count as zero": {
			value: outer{Name: "x", In: full.In, Ptr: full.Ptr, List: []inner{}, Tags: map[string]string{}, Data: []byte{}},
			want:  []string{"List", "Tags", "Data"},
		},
		"zero value": {value: outer{}, want: []string{"(value)"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Find(tc.value)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Find() = %q, want %q", got, tc.want)
			}
		})
	}
}
