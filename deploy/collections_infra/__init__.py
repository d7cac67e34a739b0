"""The AWS CDK app of Collections: one data stack and one services stack per stage."""
