package bucket

// The site https://downloads.mtrlz.dev: a CloudFront distribution in front of the private downloads bucket (read through an
// origin access control), its certificate, its DNS, and its access logs.
//
// CloudFront takes certificates from us-east-1 only, and its log delivery
// lives there too, so those resources use an explicit us-east-1 provider
// whatever the stack's region. An alias needs an issued certificate: with
// the public zone's ID the component validates the certificate by DNS and
// points the alias in one `pulumi up`; without it, the first up creates the
// certificate and reports its validation record, and the alias follows once
// an operator has added it and the certificate is issued (CertificateIssued).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
)

// SiteTypeToken is the Pulumi type of the site component.
const SiteTypeToken = "ci-infra:web:DownloadSite"

// CloudFront's fixed facts.
const (
	// CachingOptimized, the AWS-managed cache policy: a tarball under a
	// versioned name never changes, so it may be cached for a day or more.
	cachingOptimizedPolicyID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	// MinimumProtocolVersion: TLS 1.2 with modern ciphers only.
	MinimumProtocolVersion = "TLSv1.2_2021"
	// LatestPattern is the path of the few pointers ("latest") that change;
	// they are cached for a minute.
	LatestPattern = "*latest*"
	latestTTL     = 60
)

// SiteArgs configures the site.
type SiteArgs struct {
	// Domain is the site's name, e.g. "downloads.mtrlz.dev"; empty serves
	// the distribution's own cloudfront.net name only (a rebuild elsewhere:
	// an alias is global, and production holds it).
	Domain string
	// BucketName and BucketRegion are the origin: the private downloads bucket.
	BucketName, BucketRegion string
	// PublicZoneID is the public hosted zone of Domain's parent (mtrlz.dev),
	// when this stack may write it: then the certificate is validated and the
	// alias pointed in one up.
	PublicZoneID string
	// CertificateIssued says, when there is no PublicZoneID, that the
	// operator added the validation record and the certificate is issued:
	// only then can the distribution carry the alias.
	CertificateIssued bool
	// LogRetentionDays keeps access logs this long.
	LogRetentionDays int
	Tags             map[string]string
}

// Site is the distribution and what it needs.
type Site struct {
	pulumi.ResourceState

	DistributionArn pulumi.StringOutput `pulumi:"distributionArn"`
	DistributionID  pulumi.StringOutput `pulumi:"distributionId"`
	// URL is https://Domain once the alias is served, else the
	// distribution's own https address.
	URL pulumi.StringOutput `pulumi:"url"`
	// ValidationRecord is the DNS record that proves the certificate ("NAME
	// CNAME VALUE"), for an operator to add when there is no PublicZoneID.
	ValidationRecord pulumi.StringOutput `pulumi:"validationRecord"`
}

// Validate reports every problem of the arguments at once.
func (a SiteArgs) Validate() error {
	var errs []error
	if a.Domain != "" {
		errs = append(errs, ident.ValidateDomain(a.Domain))
	}
	if a.BucketName == "" || a.BucketRegion == "" {
		errs = append(errs, errors.New("BucketName and BucketRegion are required"))
	}
	if a.PublicZoneID != "" && !ident.IsZoneID(a.PublicZoneID) {
		errs = append(errs, fmt.Errorf("public zone ID %q is not %s", a.PublicZoneID, ident.ZoneIDRule))
	}
	if a.PublicZoneID != "" && a.Domain == "" {
		errs = append(errs, errors.New("PublicZoneID without a Domain: there is no record to write"))
	}
	if a.LogRetentionDays < 1 {
		errs = append(errs, errors.New("LogRetentionDays must be at least 1"))
	}
	return errors.Join(errs...)
}

// NewSite declares the site.
func NewSite(ctx *pulumi.Context, name string, args SiteArgs, opts ...pulumi.ResourceOption) (*Site, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("download site %s: %w", name, err)
	}
	site := &Site{}
	if err := ctx.RegisterComponentResource(SiteTypeToken, name, site, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(site)
	tags := pulumi.ToStringMap(args.Tags)

	// Certificates for CloudFront, and its log delivery, live in us-east-1.
	usEast1, err := aws.NewProvider(ctx, label.Name(name, "us-east-1"), &aws.ProviderArgs{Region: pulumi.String("us-east-1")}, parent)
	if err != nil {
		return nil, err
	}
	inUSEast1 := []pulumi.ResourceOption{parent, pulumi.Provider(usEast1)}

	oac, err := cloudfront.NewOriginAccessControl(ctx, label.Name(name, "origin-access"), &cloudfront.OriginAccessControlArgs{
		Name:                          pulumi.String(label.Name(name, args.BucketName)),
		Description:                   pulumi.String("CloudFront signs its requests to the private downloads bucket."),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, parent)
	if err != nil {
		return nil, err
	}
	latest, err := cloudfront.NewCachePolicy(ctx, label.Name(name, "latest-cache"), &cloudfront.CachePolicyArgs{
		Name:       pulumi.String(strings.ReplaceAll(label.Name(name, args.BucketName, "latest"), ".", "-")),
		Comment:    pulumi.String("The few pointers that change (latest): a minute."),
		DefaultTtl: pulumi.Int(latestTTL),
		MaxTtl:     pulumi.Int(latestTTL),
		MinTtl:     pulumi.Int(0),
		ParametersInCacheKeyAndForwardedToOrigin: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs{
			CookiesConfig:            &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
			HeadersConfig:            &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{HeaderBehavior: pulumi.String("none")},
			QueryStringsConfig:       &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("none")},
			EnableAcceptEncodingGzip: pulumi.Bool(true),
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	// The certificate, and whether the alias can be served yet.
	var certARN pulumi.StringInput
	site.ValidationRecord = pulumi.String("").ToStringOutput()
	if args.Domain != "" {
		cert, err := acm.NewCertificate(ctx, label.Name(name, "certificate"), &acm.CertificateArgs{
			DomainName:       pulumi.String(args.Domain),
			ValidationMethod: pulumi.String("DNS"),
			Tags:             tags,
		}, inUSEast1...)
		if err != nil {
			return nil, err
		}
		record := validationRecord(cert.DomainValidationOptions)
		site.ValidationRecord = pulumi.Sprintf("%s %s %s", record.name, record.kind, record.value)
		switch {
		case args.PublicZoneID != "":
			dns, err := route53.NewRecord(ctx, label.Name(name, "validation-record"), &route53.RecordArgs{
				ZoneId:  pulumi.String(args.PublicZoneID),
				Name:    record.name,
				Type:    record.kind,
				Records: pulumi.StringArray{record.value},
				Ttl:     pulumi.Int(300),
			}, parent)
			if err != nil {
				return nil, err
			}
			// Waits until ACM has issued the certificate.
			validated, err := acm.NewCertificateValidation(ctx, label.Name(name, "certificate-validation"), &acm.CertificateValidationArgs{
				CertificateArn:        cert.Arn,
				ValidationRecordFqdns: pulumi.StringArray{dns.Fqdn},
			}, inUSEast1...)
			if err != nil {
				return nil, err
			}
			certARN = validated.CertificateArn
		case args.CertificateIssued:
			certARN = cert.Arn
		}
	}

	viewer := &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)}
	var aliases pulumi.StringArray
	if certARN != nil {
		viewer = &cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      certARN,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String(MinimumProtocolVersion),
		}
		aliases = pulumi.StringArray{pulumi.String(args.Domain)}
	}
	const originID = "downloads-bucket"
	distribution, err := cloudfront.NewDistribution(ctx, label.Name(name, "distribution"), &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		IsIpv6Enabled: pulumi.Bool(true),
		HttpVersion:   pulumi.String("http2and3"),
		PriceClass:    pulumi.String("PriceClass_100"),
		Comment:       pulumi.String("Release downloads (" + args.BucketName + ")"),
		Aliases:       aliases,
		Origins: cloudfront.DistributionOriginArray{&cloudfront.DistributionOriginArgs{
			OriginId:              pulumi.String(originID),
			DomainName:            pulumi.String(args.BucketName + ".s3." + args.BucketRegion + ".amazonaws.com"),
			OriginAccessControlId: oac.ID(),
		}},
		// Only GET and HEAD, only HTTPS. No listing: the bucket grants the
		// distribution s3:GetObject alone.
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:       pulumi.String(originID),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
			AllowedMethods:       pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD")},
			CachedMethods:        pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD")},
			CachePolicyId:        pulumi.String(cachingOptimizedPolicyID),
			Compress:             pulumi.Bool(true),
		},
		OrderedCacheBehaviors: cloudfront.DistributionOrderedCacheBehaviorArray{&cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:          pulumi.String(LatestPattern),
			TargetOriginId:       pulumi.String(originID),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
			AllowedMethods:       pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD")},
			CachedMethods:        pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD")},
			CachePolicyId:        latest.ID(),
			Compress:             pulumi.Bool(true),
		}},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: viewer,
		Tags:              tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	// Access logs through CloudWatch log delivery (legacy CloudFront logging
	// needs a bucket with ACLs, which the policy pack forbids), in us-east-1.
	logs, err := cloudwatch.NewLogGroup(ctx, label.Name(name, "access-logs"), &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/cloudfront/%s", args.BucketName),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		Tags:            tags,
	}, inUSEast1...)
	if err != nil {
		return nil, err
	}
	source, err := cloudwatch.NewLogDeliverySource(ctx, label.Name(name, "log-source"), &cloudwatch.LogDeliverySourceArgs{
		Name:        pulumi.String(strings.ReplaceAll(label.Name(name, args.BucketName), ".", "-")),
		LogType:     pulumi.String("ACCESS_LOGS"),
		ResourceArn: distribution.Arn,
		Tags:        tags,
	}, inUSEast1...)
	if err != nil {
		return nil, err
	}
	destination, err := cloudwatch.NewLogDeliveryDestination(ctx, label.Name(name, "log-destination"), &cloudwatch.LogDeliveryDestinationArgs{
		Name: pulumi.String(strings.ReplaceAll(label.Name(name, args.BucketName, "logs"), ".", "-")),
		DeliveryDestinationConfiguration: &cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs{
			DestinationResourceArn: logs.Arn,
		},
		Tags: tags,
	}, inUSEast1...)
	if err != nil {
		return nil, err
	}
	if _, err := cloudwatch.NewLogDelivery(ctx, label.Name(name, "log-delivery"), &cloudwatch.LogDeliveryArgs{
		DeliverySourceName:     source.Name,
		DeliveryDestinationArn: destination.Arn,
		Tags:                   tags,
	}, inUSEast1...); err != nil {
		return nil, err
	}

	site.URL = pulumi.Sprintf("https://%s/", distribution.DomainName)
	if args.PublicZoneID != "" && certARN != nil {
		for _, kind := range []string{"A", "AAAA"} {
			if _, err := route53.NewRecord(ctx, label.Name(name, "alias", strings.ToLower(kind)), &route53.RecordArgs{
				ZoneId: pulumi.String(args.PublicZoneID),
				Name:   pulumi.String(args.Domain),
				Type:   pulumi.String(kind),
				Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
					Name:                 distribution.DomainName,
					ZoneId:               distribution.HostedZoneId,
					EvaluateTargetHealth: pulumi.Bool(false),
				}},
			}, parent); err != nil {
				return nil, err
			}
		}
	}
	if certARN != nil {
		site.URL = pulumi.String("https://" + args.Domain + "/").ToStringOutput()
	}
	site.DistributionArn = distribution.Arn
	site.DistributionID = distribution.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(site, pulumi.Map{
		"distributionArn": site.DistributionArn, "distributionId": site.DistributionID,
		"url": site.URL, "validationRecord": site.ValidationRecord,
	}); err != nil {
		return nil, err
	}
	return site, nil
}

// dnsRecord is a certificate's DNS validation record.
type dnsRecord struct{ name, kind, value pulumi.StringOutput }

// validationRecord reads the first DNS validation option ACM gives for the
// certificate's one domain; none is an error, not a panic.
func validationRecord(options acm.CertificateDomainValidationOptionArrayOutput) dnsRecord {
	field := func(get func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
		return options.ApplyT(func(opts []acm.CertificateDomainValidationOption) (string, error) {
			if len(opts) == 0 || get(opts[0]) == nil {
				return "", errors.New("ACM gave the certificate no DNS validation record")
			}
			return *get(opts[0]), nil
		}).(pulumi.StringOutput)
	}
	return dnsRecord{
		name:  field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
		kind:  field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
		value: field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue }),
	}
}
