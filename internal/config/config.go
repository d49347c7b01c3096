// Package config reads the typed configuration of every entry point from a lookup function
// (os.LookupEnv in production, a map in tests).
package config

import (
	"fmt"
	"net"
	"strings"
)

// Lookup returns an environment value and whether it is set.
type Lookup func(string) (string, bool)

// Names of the environment variables.
const (
	EnvListen         = "AISPM_LISTEN"
	EnvDataDir        = "AISPM_DATA_DIR"
	EnvPublicBaseURL  = "AISPM_PUBLIC_BASE_URL"
	EnvTable          = "AISPM_TABLE"
	EnvArtifactBucket = "AISPM_ARTIFACT_BUCKET"
	EnvAWSEndpoint    = "AISPM_AWS_ENDPOINT"
	EnvRegion         = "AWS_REGION"
)

// Embedded configures `aispm-reports serve`.
type Embedded struct {
	Listen        string // loopback host:port
	DataDir       string
	PublicBaseURL string // where presigned object links point; derived from Listen by default
}

// LoadEmbedded reads the embedded configuration with defaults.
func LoadEmbedded(lookup Lookup) (Embedded, error) {
	c := Embedded{
		Listen:  get(lookup, EnvListen, "127.0.0.1:8787"),
		DataDir: get(lookup, EnvDataDir, "data"),
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return Embedded{}, fmt.Errorf("%s: %w", EnvListen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return Embedded{}, fmt.Errorf("%s: the local server binds to a loopback address only, not %q", EnvListen, host)
	}
	c.PublicBaseURL = strings.TrimSuffix(get(lookup, EnvPublicBaseURL, "http://"+c.Listen), "/")
	return c, nil
}

// AWS configures a Lambda function.
type AWS struct {
	Region         string
	Endpoint       string // emulator endpoint; empty in AWS
	Table          string
	ArtifactBucket string
}

// LoadAWS reads the Lambda configuration; the table and bucket are required.
func LoadAWS(lookup Lookup) (AWS, error) {
	c := AWS{
		Region:         get(lookup, EnvRegion, "us-east-1"),
		Endpoint:       get(lookup, EnvAWSEndpoint, ""),
		Table:          get(lookup, EnvTable, ""),
		ArtifactBucket: get(lookup, EnvArtifactBucket, ""),
	}
	if c.Table == "" {
		return AWS{}, fmt.Errorf("%s is required", EnvTable)
	}
	if c.ArtifactBucket == "" {
		return AWS{}, fmt.Errorf("%s is required", EnvArtifactBucket)
	}
	return c, nil
}

func get(lookup Lookup, name, def string) string {
	if v, ok := lookup(name); ok && v != "" {
		return v
	}
	return def
}
