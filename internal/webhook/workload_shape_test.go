package webhook

import (
	"strings"
	"testing"
)

func TestValidateWorkloadShapes(t *testing.T) {
	cases := []struct {
		name string
		json string
		want []string // each error's field and a piece of its message; empty: accepted
	}{
		{name: "string product", json: `{"spec":{"selectors":{"gpu":{"product_name":"Tesla V100-SXM2-16GB"}}}}`},
		{name: "list product", json: `{"spec":{"selectors":{"gpu":{"product_name":["Quadro RTX 6000","Tesla V100-SXM2-16GB"]}}}}`},
		{name: "All alone", json: `{"spec":{"selectors":{"cpu":{"product_name":"All"}}}}`},
		{name: "cmd string", json: `{"spec":{"config":{"cmd":"/bin/bash -c 'sleep 1'"}}}`},
		{name: "cmd list", json: `{"spec":{"config":{"cmd":["python","train.py"]}}}`},
		{name: "nothing", json: `{"spec":{}}`},
		{
			name: "product list with a number",
			json: `{"spec":{"selectors":{"gpu":{"product_name":["A100",6000]}}}}`,
			want: []string{"spec.selectors.gpu.product_name[1]", "must be a string"},
		},
		{
			name: "product as a mapping",
			json: `{"spec":{"selectors":{"gpu":{"product_name":{"model":"A100"}}}}}`,
			want: []string{"spec.selectors.gpu.product_name", "must be a string or a list of strings"},
		},
		{
			name: "All mixed with models",
			json: `{"spec":{"selectors":{"gpu":{"product_name":["All","A100"]}}}}`,
			want: []string{"spec.selectors.gpu.product_name", "All already means any model"},
		},
		{
			name: "empty product",
			json: `{"spec":{"selectors":{"cpu":{"product_name":""}}}}`,
			want: []string{"spec.selectors.cpu.product_name", "must name a model"},
		},
		{
			name: "cmd as a number",
			json: `{"spec":{"config":{"cmd":42}}}`,
			want: []string{"spec.config.cmd", "must be a string or a list of strings"},
		},
		{
			name: "cmd list with a mapping",
			json: `{"spec":{"config":{"cmd":["a",{"b":1}]}}}`,
			want: []string{"spec.config.cmd[1]", "must be a string"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateWorkloadShapes([]byte(tc.json))
			if len(tc.want) == 0 {
				if len(errs) != 0 {
					t.Fatalf("refused: %v", errs.ToAggregate())
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors (%v), want 1", len(errs), errs.ToAggregate())
			}
			if errs[0].Field != tc.want[0] || !strings.Contains(errs[0].Detail, tc.want[1]) {
				t.Fatalf("error = %s %q, want %s and %q", errs[0].Field, errs[0].Detail, tc.want[0], tc.want[1])
			}
		})
	}
}

// The string-or-list fields are bounded here, since the schema cannot bound them: a list of
// products or arguments too long, or one too big, is refused naming the field.
func TestStringOrListFieldsAreBounded(t *testing.T) {
	long := strings.Repeat("x", 97)
	many := "[" + strings.TrimSuffix(strings.Repeat(`"A100",`, 17), ",") + "]"
	cases := map[string]string{
		"seventeen products":      `{"spec":{"selectors":{"gpu":{"product_name":` + many + `}}}}`,
		"a product too long":      `{"spec":{"selectors":{"gpu":{"product_name":["` + long + `"]}}}}`,
		"a lone product too long": `{"spec":{"selectors":{"gpu":{"product_name":"` + long + `"}}}}`,
		"a command too long":      `{"spec":{"config":{"cmd":"` + strings.Repeat("x", 65537) + `"}}}`,
		"too many arguments":      `{"spec":{"config":{"cmd":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 1025), ",") + `]}}}`,
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			errs := ValidateWorkloadShapes([]byte(raw))
			if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), "spec.") {
				t.Errorf("errors %v, want a refusal naming the field", errs)
			}
		})
	}
	if errs := ValidateWorkloadShapes([]byte(`{"spec":{"selectors":{"gpu":{"product_name":["Tesla V100-SXM2-16GB","Quadro RTX 6000"]}},"config":{"cmd":"/bin/bash -c true"}}}`)); len(errs) != 0 {
		t.Errorf("the seed's values are refused: %v", errs)
	}
}
