# The stack's access-log bucket: S3 server access logs of the frontend bucket
# (prefix s3/) and, for a stack with its own load balancer, the ALB's access
# logs (prefix alb/). Private, versioned, SSE-S3 (the only encryption ALB log
# delivery supports), logs expire after the retention period.

data "aws_partition" "current" {}
data "aws_region" "current" {}

# Static per-region lookup in the provider (no API call): the account ELB
# delivers access logs from in regions older than August 2022.
data "aws_elb_service_account" "current" {}

variable "name" {
  description = "Stack name; the bucket name starts with <name>-logs-."
  type        = string
}

variable "account_id_source_arn" {
  description = "Any ARN of the stack's account, read at apply time (no data source may call AWS at plan time)."
  type        = string
}

variable "alb_logs" {
  description = "Allow the stack's load balancer to deliver access logs."
  type        = bool
}

variable "retention_days" {
  type = number
}

variable "production" {
  description = "Keep the bucket on destroy while it holds objects."
  type        = bool
}

locals {
  account_id = split(":", var.account_id_source_arn)[4]
}

resource "aws_s3_bucket" "this" {
  bucket_prefix = "${var.name}-logs-"
  force_destroy = !var.production
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  dynamic "statement" {
    for_each = var.alb_logs ? [1] : []
    content {
      sid       = "AlbAccessLogsElbAccount"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/alb/AWSLogs/${local.account_id}/*"]
      principals {
        type        = "AWS"
        identifiers = [data.aws_elb_service_account.current.arn]
      }
    }
  }

  dynamic "statement" {
    for_each = var.alb_logs ? [1] : []
    content {
      sid       = "AlbAccessLogsDeliveryService"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/alb/AWSLogs/${local.account_id}/*"]
      principals {
        type        = "Service"
        identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
      }
    }
  }

  statement {
    sid     = "DenyPlainHttp"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

output "bucket" {
  value = aws_s3_bucket.this.bucket
}

# Users wait for the policy: delivery is refused until it is in place.
output "bucket_ready" {
  value = aws_s3_bucket_policy.this.bucket
}
