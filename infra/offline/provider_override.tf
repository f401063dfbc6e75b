# Offline override for `caliber plan --offline`: caliber symlinks this file
# into a stack's working directory so that `terraform plan` needs neither
# credentials nor network. Terraform merges override files argument by
# argument into the provider blocks of providers.tf. The configuration uses
# no data source that calls AWS, so nothing else is needed. Never used for
# apply: the dummy keys would be rejected by AWS.
provider "aws" {
  access_key                  = "AKIAOFFLINEPLAN00000"
  secret_key                  = "offline-plan-dummy-secret-key"
  profile                     = null
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

provider "aws" {
  alias                       = "us_east_1"
  access_key                  = "AKIAOFFLINEPLAN00000"
  secret_key                  = "offline-plan-dummy-secret-key"
  profile                     = null
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
