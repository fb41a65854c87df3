from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from orm.sync_models import PullOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_crm_external_ids')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarPull',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.CalendarAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='pulls', on_delete=OnDelete.CASCADE)),
                ('followup_id', fields.IntField(description='the follow-up the object belongs to')),
                ('name', fields.CharField(description='object name in the calendar', max_length=200)),
                ('outcome', fields.CharEnumField(description='APPLIED: APPLIED\nREFUSED: REFUSED\nSTATUS: STATUS\nREVERTED: REVERTED\nCONFLICT: CONFLICT', enum_type=PullOutcome, max_length=8)),
                ('fields_changed', fields.JSONField(default=list, description='fields changed in the calendar', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.TextField(null=True, description='why a change was refused or put back', unique=False)),
                ('calendar_values', fields.JSONField(null=True, description="CONFLICT: the calendar's value of each field the CRM kept", encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'calendar_pull', 'app': 'models', 'indexes': [Index(fields=['followup_id', 'id']), Index(fields=['account_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One change found in a calendar by a pull, and what the service did with it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CalendarAccount',
            name='pull',
            field=fields.BooleanField(default=True, description='changes made in the calendar come back'),
        ),
        ops.AddField(
            model_name='CalendarAccount',
            name='pull_error',
            field=fields.TextField(null=True, description='why the last pull pass failed', unique=False),
        ),
        ops.AddField(
            model_name='CalendarAccount',
            name='pulled_at',
            field=fields.DatetimeField(null=True, description='last pull pass that found a change', auto_now=False, auto_now_add=False),
        ),
    ]
