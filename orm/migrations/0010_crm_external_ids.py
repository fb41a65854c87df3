from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_followup_all_day')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ActivityType',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Associate',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Company',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Person',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Project',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Resource',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='ResourceGroup',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Sale',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='Selection',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
        ops.AddField(
            model_name='UserGroup',
            name='external_id',
            field=fields.CharField(null=True, unique=True, description='upsert key of `followups import` (unique, unset for records made otherwise)', max_length=200),
        ),
    ]
