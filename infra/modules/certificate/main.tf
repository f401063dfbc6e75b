# An ACM certificate for one host name, validated by DNS in the domain's
# Route 53 zone. The region is the caller's provider: the stack's region for
# the load balancer, us-east-1 for CloudFront.

variable "domain_name" {
  description = "Host name the certificate covers."
  type        = string
}

variable "hosted_zone_id" {
  description = "Route 53 zone where the validation record goes."
  type        = string
}

resource "aws_acm_certificate" "this" {
  domain_name       = var.domain_name
  validation_method = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.this.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.hosted_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

# The validated ARN: users of it wait for validation to finish.
output "certificate_arn" {
  value = aws_acm_certificate_validation.this.certificate_arn
}
