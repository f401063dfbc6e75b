# Terraform and provider versions. There is deliberately no backend block:
# caliber writes a backend.tf into each stack's working directory (one state
# per stack), so this configuration is shared by every client unchanged.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
