from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.sync_models import PullOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_calendar_pull')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ForeignObject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.CalendarAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='foreign_objects', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(description='object name in the calendar', max_length=200)),
                ('etag', fields.CharField(description='the ETag it had when looked at', max_length=255)),
            ],
            options={'table': 'calendar_foreign_object', 'app': 'models', 'unique_together': (('account', 'name'),), 'pk_attr': 'id', 'table_description': 'An object in a calendar that is not ours and was looked at, not imported.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CalendarAccount',
            name='import_new_events',
            field=fields.BooleanField(default=False, description='events made in the calendar app become meetings'),
        ),
        ops.AddField(
            model_name='CalendarAccount',
            name='pull_delete',
            field=fields.TextField(null=True, description='safe, unlink or restore (null: CALDAV_PULL_DELETE)', unique=False),
        ),
        ops.AlterField(
            model_name='CalendarPull',
            name='followup_id',
            field=fields.IntField(null=True, description='the follow-up the object belongs to (null: none was made)'),
        ),
        ops.AlterField(
            model_name='CalendarPull',
            name='outcome',
            field=fields.CharEnumField(description='APPLIED: APPLIED\nREFUSED: REFUSED\nSTATUS: STATUS\nREVERTED: REVERTED\nCONFLICT: CONFLICT\nIMPORTED: IMPORTED', enum_type=PullOutcome, max_length=8),
        ),
    ]
