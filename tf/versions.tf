terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.72.0, < 7.0.0"
    }
  }

  # Partial configuration: tfcompute passes the rest with
  # `terraform init -backend-config=$TF_BACKEND_CONFIG`. Each resource is one
  # workspace, so its state lives at env:/<resource id>/<key>.
  backend "s3" {}
}
