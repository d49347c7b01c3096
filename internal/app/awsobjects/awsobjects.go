// Package awsobjects adds the S3 Object Lock object store to a Lambda function's ports. It
// is its own package so that functions which never touch objects do not link the S3 client.
package awsobjects

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
)

// Open sets p.Objects to the artifact bucket (an awscore.Opener).
func Open(awsCfg aws.Config, cfg config.AWS, p *ports.Set) {
	client := s3worm.NewClient(awsCfg)
	p.Objects = s3worm.New(client, s3.NewPresignClient(client), cfg.ArtifactBucket)
}
