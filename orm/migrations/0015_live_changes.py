from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.live_models import LiveKind, PartyKind
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_conflict_resolution')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LiveChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('kind', fields.CharEnumField(description='CREATED: CREATED\nUPDATED: UPDATED\nDELETED: DELETED\nDELIVERY_FAILED: DELIVERY_FAILED\nSYNC_FAILED: SYNC_FAILED', enum_type=LiveKind, max_length=16)),
                ('followup_id', fields.IntField(null=True, description='the follow-up, kept after it is deleted')),
                ('occurrence_start', fields.DatetimeField(null=True, description='the original start of the one occurrence changed', auto_now=False, auto_now_add=False)),
                ('account_id', fields.IntField(null=True, description='SYNC_FAILED: the calendar account')),
            ],
            options={'table': 'live_change', 'app': 'models', 'indexes': [Index(fields=['at'])], 'pk_attr': 'id', 'table_description': 'The live change log: the cursor of subscriptions and catch-up.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LiveParty',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('change_id', fields.IntField(description='the LiveChange')),
                ('party', fields.CharEnumField(description='ASSOCIATE: A\nRESOURCE: R', enum_type=PartyKind, max_length=1)),
                ('party_id', fields.IntField(description='the associate or resource id')),
            ],
            options={'table': 'live_change_party', 'app': 'models', 'indexes': [Index(fields=['party', 'party_id', 'change_id']), Index(fields=['change_id'])], 'pk_attr': 'id', 'table_description': 'Who a live change concerns.'},
            bases=['Model'],
        ),
    ]
