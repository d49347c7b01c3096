package awscore_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/api/catalogapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/ingestapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/openapiapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/settingsapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/tokenapi"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/wormfs"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
)

const functionsDir = "../../../functions"

// builders are the domains a light function may start with; a new one is added here.
var builders = map[string]awscore.Builder{
	"catalogapi.FromPorts":  catalogapi.FromPorts,
	"settingsapi.FromPorts": settingsapi.FromPorts,
	"ingestapi.FromPorts":   ingestapi.FromPorts,
	"openapiapi.FromPorts":  openapiapi.FromPorts,
	"tokenapi.FromPorts":    tokenapi.FromPorts,
}

// lightFunction is a functions/<name>/main.go that calls awscore.StartRoute.
type lightFunction struct {
	dir, route, builder string
	openers             []string
}

func lightFunctions(t *testing.T) []lightFunction {
	t.Helper()
	dirs, err := os.ReadDir(functionsDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []lightFunction
	for _, d := range dirs {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(functionsDir, d.Name(), "main.go"), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || selector(call.Fun) != "awscore.StartRoute" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || len(call.Args) < 2 {
				t.Fatalf("functions/%s: StartRoute wants a route name literal and a builder", d.Name())
			}
			route, _ := strconv.Unquote(lit.Value)
			lf := lightFunction{dir: d.Name(), route: route, builder: selector(call.Args[1])}
			for _, a := range call.Args[2:] {
				lf.openers = append(lf.openers, selector(a))
			}
			out = append(out, lf)
			return false
		})
	}
	if len(out) == 0 {
		t.Fatal("no function starts through awscore")
	}
	return out
}

func selector(e ast.Expr) string {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	x, ok := s.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return x.Name + "." + s.Sel.Name
}

// TestLightFunctionsAreWiredForTheirRoute builds each light function's handlers on the
// ports its main opens (embedded stand-ins for the AWS ones), so a main that forgets the
// object store, or names a builder that does not serve its route, fails here.
func TestLightFunctionsAreWiredForTheirRoute(t *testing.T) {
	clk := clock.System{}
	items, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "items.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { items.Close() })
	objects, err := wormfs.Open(t.TempDir(), "http://127.0.0.1:1", []byte("0123456789abcdef0123456789abcdef"), clk)
	if err != nil {
		t.Fatal(err)
	}
	for _, lf := range lightFunctions(t) {
		if lf.dir != lf.route {
			t.Errorf("functions/%s starts route %q", lf.dir, lf.route)
		}
		build, ok := builders[lf.builder]
		if !ok {
			t.Errorf("functions/%s: unknown builder %q (add it to builders)", lf.dir, lf.builder)
			continue
		}
		p := ports.Set{Items: items, Clock: clk}
		for _, o := range lf.openers {
			if o != "awsobjects.Open" {
				t.Fatalf("functions/%s: unknown opener %q", lf.dir, o)
			}
			p.Objects = objects
		}
		handlers, err := build(p)
		if err != nil {
			t.Errorf("functions/%s: %v", lf.dir, err)
			continue
		}
		if handlers[lf.route] == nil {
			t.Errorf("functions/%s: %s does not serve route %s", lf.dir, lf.builder, lf.route)
		}
	}
}

// heavy are the packages that make a cold start slow (measured with GODEBUG=inittrace=1):
// no light function, nor the authorizer, may link them.
var heavy = []string{
	"github.com/aws/aws-sdk-go-v2/config", // shared-config loader: awsenv reads the environment
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams",
	"github.com/aws/aws-sdk-go-v2/service/kms",
	"github.com/aws/aws-sdk-go-v2/service/sesv2",
	"github.com/aws/aws-sdk-go-v2/service/sfn",
	"github.com/aws/aws-sdk-go-v2/service/scheduler",
	"github.com/xuri/excelize/v2",
	"github.com/go-pdf/fpdf",
	"github.com/cavra-enterprise/aispm-reports/internal/render",
}

// jsonSchema compiles every draft's metaschema in its package init (6-9 ms): only the
// functions that validate a request body against a schema may link it.
const jsonSchema = "github.com/santhosh-tekuri/jsonschema/v6"

func TestLightFunctionsLinkOnlyTheirDomain(t *testing.T) {
	mains := []string{"authorizer"}
	for _, lf := range lightFunctions(t) {
		mains = append(mains, lf.dir)
	}
	for _, name := range mains {
		out, err := exec.Command("go", "list", "-deps", "./"+filepath.Join(functionsDir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", name, err, out)
		}
		deps := strings.Fields(string(out))
		for _, pkg := range heavy {
			if slices.Contains(deps, pkg) {
				t.Errorf("functions/%s links %s", name, pkg)
			}
		}
		if slices.Contains([]string{"authorizer", "get-catalog", "get-openapi"}, name) && slices.Contains(deps, jsonSchema) {
			t.Errorf("functions/%s links %s but validates no request body", name, jsonSchema)
		}
	}
}
