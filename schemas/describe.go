package schemas

import (
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// describe words a schema failure without quoting the instance value.
func describe(e *jsonschema.ValidationError) string {
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return "missing required field(s): " + strings.Join(k.Missing, ", ")
	case *kind.AdditionalProperties:
		return "unknown field(s): " + strings.Join(k.Properties, ", ")
	case *kind.Type:
		return "must be of type " + strings.Join(k.Want, " or ")
	case *kind.Enum:
		return fmt.Sprintf("must be one of %s", enumList(k.Want))
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.Pattern:
		return "does not match the required pattern " + k.Want
	case *kind.Format:
		if k.Want == RefFormat && k.Err != nil {
			return "is not a usable ref: it " + k.Err.Error()
		}
		return "must be a valid " + k.Want
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.UniqueItems:
		return "items must be unique"
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %v", k.Want)
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %v", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	}
	return "is not valid"
}

func enumList(want []any) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = fmt.Sprintf("%v", w)
	}
	return strings.Join(parts, ", ")
}
