package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/doradoc"
)

// Output formats of the plugin's own, besides kubectl's.
const (
	// FormatWide is the table with the extra columns.
	FormatWide = "wide"
	// FormatDora writes Dora's own YAML documents (apiVersion v1, metadata.zone, group).
	FormatDora = "dora"
)

// OutputFlags are -o and --no-headers, as kubectl has them: the table (default), wide,
// json, yaml, name, jsonpath=..., go-template=..., and Dora's own documents (dora).
type OutputFlags struct {
	Print     *genericclioptions.PrintFlags
	NoHeaders bool
	// dora is whether -o dora is offered.
	dora bool
}

// NewOutputFlags are output flags; withDora offers -o dora.
func NewOutputFlags(withDora bool) *OutputFlags {
	return &OutputFlags{Print: genericclioptions.NewPrintFlags("").WithTypeSetter(Scheme()), dora: withDora}
}

// AddFlags adds -o, --no-headers and kubectl's template flags to cmd.
func (o *OutputFlags) AddFlags(cmd *cobra.Command, table bool) {
	o.Print.JSONYamlPrintFlags.AddFlags(cmd)
	o.Print.TemplatePrinterFlags.AddFlags(cmd)
	formats := o.Formats(table)
	cmd.Flags().StringVarP(o.Print.OutputFormat, "output", "o", "", "Output format. One of: ("+strings.Join(formats, ", ")+").")
	o.Print.OutputFlagSpecified = func() bool { return cmd.Flag("output").Changed }
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return formats, cobra.ShellCompDirectiveNoFileComp
	})
	if table {
		cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "When printing a table, leave out the headers.")
	}
}

// Formats are the -o values offered.
func (o *OutputFlags) Formats(table bool) []string {
	var formats []string
	if table {
		formats = append(formats, FormatWide)
	}
	if o.dora {
		formats = append(formats, FormatDora)
	}
	return append(formats, o.Print.AllowedFormats()...)
}

// Format is the -o value.
func (o *OutputFlags) Format() string { return *o.Print.OutputFormat }

// Table reports whether a table is to be printed (no -o, or -o wide).
func (o *OutputFlags) Table() bool {
	f := o.Format()
	return (f == "" || f == FormatWide) && !o.templateGiven()
}

func (o *OutputFlags) templateGiven() bool {
	t := o.Print.TemplatePrinterFlags
	return t != nil && t.TemplateArgument != nil && *t.TemplateArgument != ""
}

// Wide reports -o wide.
func (o *OutputFlags) Wide() bool { return o.Format() == FormatWide }

// Dora reports -o dora.
func (o *OutputFlags) Dora() bool { return o.Format() == FormatDora }

// Validate refuses an unknown -o before anything is done.
func (o *OutputFlags) Validate(table bool) error {
	f := o.Format()
	if f == "" && !o.templateGiven() {
		return nil
	}
	if table && f == FormatWide || o.dora && f == FormatDora {
		return nil
	}
	if _, err := o.Print.ToPrinter(); err != nil {
		return fmt.Errorf("-o %s: unknown output format; use one of %s", f, strings.Join(o.Formats(table), ", "))
	}
	return nil
}

// PrintObjects writes objects in the structured format asked (json, yaml, name, a
// template, or dora): one object as itself, several as a v1 List (one document each for
// dora; each separated by --- for yaml).
func (o *OutputFlags) PrintObjects(w io.Writer, objects []runtime.Object) error {
	if o.Dora() {
		typed := make([]client.Object, 0, len(objects))
		for _, obj := range objects {
			t, err := ToTyped(obj)
			if err != nil {
				return err
			}
			typed = append(typed, t)
		}
		data, err := doradoc.Encode(typed...)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	p, err := o.Print.ToPrinter()
	if err != nil {
		return err
	}
	if len(objects) == 1 {
		return p.PrintObj(objects[0], w)
	}
	f := o.Format()
	if f == "name" || f == "yaml" {
		for _, obj := range objects {
			if err := p.PrintObj(obj, w); err != nil {
				return err
			}
		}
		return nil
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}}}
	for _, obj := range objects {
		u, err := ToUnstructured(obj)
		if err != nil {
			return err
		}
		list.Items = append(list.Items, *u)
	}
	return p.PrintObj(list, w)
}

// ToUnstructured converts any object to unstructured, through JSON (so that omitzero and
// the types' own marshallers hold).
func ToUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// ToTyped converts an unstructured Dora object (or a typed one) to its Go type.
func ToTyped(obj runtime.Object) (client.Object, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		c, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%T is not an object", obj)
		}
		return c, nil
	}
	k, ok := KindOf(u.GetKind())
	if !ok || k.Container {
		return nil, fmt.Errorf("a %s has no Dora document", u.GetKind())
	}
	typed := k.New()
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, typed); err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return typed, nil
}

// PrintTable writes a table as kubectl does; wide shows the columns of priority above 0.
func PrintTable(w io.Writer, table *metav1.Table, wide, noHeaders bool) error {
	p := printers.NewTablePrinter(printers.PrintOptions{Wide: wide, NoHeaders: noHeaders})
	return p.PrintObj(table, w)
}

// SimpleTable is a table of strings with headers, all shown (for the plugin's own views).
func SimpleTable(headers ...string) *metav1.Table {
	t := &metav1.Table{}
	for _, h := range headers {
		t.ColumnDefinitions = append(t.ColumnDefinitions, metav1.TableColumnDefinition{Name: h, Type: "string"})
	}
	return t
}

// AddRow appends a row of cells to a table.
func AddRow(t *metav1.Table, cells ...any) {
	t.Rows = append(t.Rows, metav1.TableRow{Cells: slices.Clone(cells)})
}
