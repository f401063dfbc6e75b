# Providers: the stack's region, and us-east-1 for the CloudFront certificate
# (CloudFront only accepts ACM certificates from us-east-1). Every resource is
# tagged with the client, env, plan and stack through default_tags.
provider "aws" {
  region  = var.aws_region
  profile = var.aws_profile != "" ? var.aws_profile : null

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias   = "us_east_1"
  region  = "us-east-1"
  profile = var.aws_profile != "" ? var.aws_profile : null

  default_tags {
    tags = local.tags
  }
}
